// An independent signer for the interop test: Node's own Ed25519 (OpenSSL), and JCS, base58btc and base64url
// written here from the contract, sharing no code with the C# implementation.
//
//   node sign-grant.mjs SEED_HEX TENANT AGENT GRANT_ID [v2]
// prints {"did": "...", "grant": "<signed grant JSON text>"}; with v2, an agentsec.grant.v2 with tools, an approval
// and a pin.
import crypto from "node:crypto";

const [seedHex, tenantId, agentId, grantId, version] = process.argv.slice(2);
const seed = Buffer.from(seedHex, "hex");
if (seed.length !== 32) throw new Error("seed must be 32 bytes of hex");

// RFC 8410 PKCS#8 wrapping of a raw Ed25519 seed.
const privateKey = crypto.createPrivateKey({
  key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]),
  format: "der",
  type: "pkcs8",
});
const publicKey = crypto.createPublicKey(privateKey).export({ format: "der", type: "spki" }).subarray(-32);

const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
function base58btc(bytes) {
  let n = BigInt("0x" + (Buffer.from(bytes).toString("hex") || "0"));
  let out = "";
  while (n > 0n) { out = ALPHABET[Number(n % 58n)] + out; n /= 58n; }
  for (const b of bytes) { if (b !== 0) break; out = "1" + out; }
  return out;
}
const did = "did:key:z" + base58btc(Buffer.concat([Buffer.from([0xed, 0x01]), publicKey]));

// RFC 8785 for this document: sorted members (UTF-16 order is JavaScript's default sort), JSON.stringify escaping.
function jcs(value) {
  if (Array.isArray(value)) return "[" + value.map(jcs).join(",") + "]";
  if (value !== null && typeof value === "object") {
    return "{" + Object.keys(value).sort().map((k) => JSON.stringify(k) + ":" + jcs(value[k])).join(",") + "}";
  }
  return JSON.stringify(value);
}

const now = Math.floor(Date.now() / 1000);
const time = (s) => new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
const grant = {
  type: "agentsec.grant.v1",
  grantId,
  tenantId,
  agentId,
  capabilities: { fileSystem: "read", network: "outbound", memory: "none", subprocess: false, vectorDb: false, llm: true },
  scopes: { fileSystem: ["/data/**"], network: ["api.example.org:443"] },
  resourceLimits: { checksPerSecond: 500 },
  environmentIsolation: "external",
  issuedAt: time(now - 5),
  expiresAt: time(now + 3600),
  signedBy: did,
};
if (version === "v2") {
  grant.type = "agentsec.grant.v2";
  grant.capabilities.tools = ["fs/read_*", "gh/create_issue"];
  grant.toolRules = {
    approve: ["gh/*"],
    pins: { "fs/read_text_file": "sha256:1d8b2b6ca5e1073726f4f41ba61ac8c888d2867157d6cf12547c55051c7f482a" },
  };
}
const signingInput = Buffer.concat([Buffer.from(grant.type, "utf8"), Buffer.from([0]), Buffer.from(jcs(grant), "utf8")]);
grant.signature = crypto.sign(null, signingInput, privateKey).toString("base64url");

// Written pretty and in another member order than JCS on purpose: only the signed bytes are canonical.
process.stdout.write(JSON.stringify({ did, grant: JSON.stringify(grant, null, 2) }));
