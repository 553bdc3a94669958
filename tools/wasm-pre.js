/* Prepended (emcc --pre-js) to every libavengers WebAssembly module: the library's programs, its
   tests and the JavaScript binding's core module (docs/PORTABILITY.md, WebAssembly).
   1. Emscripten 3.1.6 (Debian) loads the .wasm with fetch() whenever fetch exists; Node.js 18+ has
      a fetch that takes no file paths, so under Node the module reads its .wasm from disk instead.
   2. Under Node the process environment reaches getenv() (AV_SIMD picks the kernels, as natively). */
var av_in_node = typeof process == "object" && process.versions != null && process.versions.node != null;
var fetch = av_in_node ? undefined : globalThis.fetch;
Module["preRun"] = [].concat(Module["preRun"] || [], function () {
  if (av_in_node && typeof ENV == "object")
    for (var key in process.env)
      if (ENV[key] === undefined) ENV[key] = process.env[key];
});
