// Call the FashionEdit analyzer from JavaScript (Node 18+, Deno, or a browser with its own file input).
// The request body follows contracts/schemas/AnalyzeRequest.json and is checked against the schema's
// required and allowed fields before it is sent; the answer follows AnalyzeResponse.json, errors
// ErrorResponse.json.
//   FASHIONEDIT_ANALYZER_URL=http://127.0.0.1:3003 node deploy/examples/analyze.mjs original.png design.png [k]
import { readFile } from "node:fs/promises";

const base = process.env.FASHIONEDIT_ANALYZER_URL ?? "http://127.0.0.1:3003";
const token = process.env.FASHIONEDIT_API_TOKEN; // the services' bearer token, when one is set
const schema = JSON.parse(await readFile(new URL("../../contracts/schemas/AnalyzeRequest.json", import.meta.url), "utf8"));

const [originalPath, generatedPath, k = "3"] = process.argv.slice(2);
if (!originalPath || !generatedPath) {
  console.error("usage: node analyze.mjs ORIGINAL GENERATED [k]");
  process.exit(2);
}
const body = {
  original: (await readFile(originalPath)).toString("base64"), // ImagePayload: base64 PNG/JPEG/WebP
  generated: (await readFile(generatedPath)).toString("base64"),
  k: Number(k),
};
for (const field of schema.required) if (!(field in body)) throw new Error(`missing required field ${field}`);
for (const field of Object.keys(body)) if (!(field in schema.properties)) throw new Error(`unknown field ${field}`);
const { minimum, maximum } = schema.properties.k;
if (!(body.k >= minimum && body.k <= maximum)) throw new Error(`k must be within ${minimum}..${maximum}`);

const response = await fetch(`${base}/v1/analyze`, {
  method: "POST",
  headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
  body: JSON.stringify(body),
});
const answer = await response.json();
if (!response.ok) {
  // ErrorResponse: {"error": {"code", "message", "status", "details", "request_id", ...}}
  console.error(`${response.status} ${answer.error.code}: ${answer.error.message}`);
  process.exit(1);
}
for (const difference of answer.differences) {
  const [ymin, xmin, ymax, xmax] = difference.box_2d; // 0-1000, as the paper's prompt asks
  console.log(`[${ymin}, ${xmin}, ${ymax}, ${xmax}] ${difference.description}`);
}
console.log(`backend=${answer.model.backend} model=${answer.model.model_id} offline=${answer.model.offline}`);
