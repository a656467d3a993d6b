/** `--zoom K`: how large the PNG image grids of `vdm sample`, `vdm guidance` and `vdm train` draw each image. */
import { defineFlags, int } from "./args.js";

/** The largest --zoom: a 28×28 image 448 pixels wide. */
const MAX_ZOOM = 16;

/** The flag of commands that write PNG grids of images. */
export const pictureFlags = defineFlags("Pictures (image models)", {
  zoom: {
    default: "2",
    value: "K",
    help: `PNG image grids: each image pixel drawn as a K×K square (1..${MAX_ZOOM})`,
    parse: int({ min: 1, max: MAX_ZOOM }),
  },
});
