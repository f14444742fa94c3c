// Entry of a sweep worker thread (plain JavaScript, so it loads without a TypeScript loader):
// registers streamsim's TypeScript loader (bin/typescript.js) in this thread, then hands piscina
// the TypeScript task of worker.ts.
await import("../../bin/typescript.js");
const mod = await import("./worker.ts");

export default mod.default;
