// Entry of a sweep worker thread (plain JavaScript, so it loads without a TypeScript loader):
// registers tsx, then hands piscina the TypeScript task of worker.ts.
import { register } from "tsx/esm/api";

register();
const mod = await import("./worker.ts");

export default mod.default;
