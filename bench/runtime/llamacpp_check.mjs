// Cross-check with llama.cpp: loads a GGUF with the llama.cpp build that the
// npm package node-llama-cpp ships prebuilt, and prints the greedy
// continuation of "Once upon a time" (BOS first), to compare with
//   build/bin/arca-run-file --file F --prompt "Once upon a time" --tokens N --threads 1
// Set up once, outside the repository:
//   mkdir /tmp/nlc && cd /tmp/nlc && npm init -y &&
//   npm install --ignore-scripts node-llama-cpp@3.22.1 @node-llama-cpp/linux-x64@3.22.1
// Run: cd /tmp/nlc && node /path/to/llamacpp_check.mjs FILE.gguf [N]
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const path = process.argv[2];
const n = parseInt(process.argv[3] || "64");
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath: path});
const ctx = await model.createContext({contextSize: 256, threads: 1});
const prompt = [model.tokens.bos, ...model.tokenize("Once upon a time", false)];
const out = [];
for await (const t of ctx.getSequence().evaluate(prompt, {temperature: 0})) {
  out.push(t);
  if (out.length >= n) break;
}
console.log("prompt ids:", prompt.join(" "));
console.log("generated ids:", out.join(" "));
console.log("text:", JSON.stringify(model.detokenize(out)));
process.exit(0);
