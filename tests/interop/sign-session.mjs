// An independent session signer for the HTTP interop tests: Node's own Ed25519 (OpenSSL), and JCS, base58btc and
// base64url written here from the contract (signed-documents.md, agentsec.session.v1), sharing no code with the C#
// implementation, nor with sign-grant.mjs.
//
//   node sign-session.mjs SEED_HEX AUDIENCE [LIFETIME_SECONDS]
// prints {"did": "...", "session": "<signed session JSON text>", "bearer": "<Authorization header value>"}
import crypto from "node:crypto";

const [seedHex, audience, lifetimeText = "3600"] = process.argv.slice(2);
const seed = Buffer.from(seedHex ?? "", "hex");
if (seed.length !== 32) throw new Error("seed must be 32 bytes of hex");
if (!audience) throw new Error("the audience (the cluster's service id) is required");
const lifetime = Number.parseInt(lifetimeText, 10);
if (!(lifetime > 0 && lifetime <= 24 * 3600)) throw new Error("a session lasts 1 second to 24 hours");

// RFC 8410: a raw Ed25519 seed wrapped as PKCS#8.
const privateKey = crypto.createPrivateKey({
  key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]),
  format: "der",
  type: "pkcs8",
});
const publicKey = crypto.createPublicKey(privateKey).export({ format: "der", type: "spki" }).subarray(-32);

// did:key: "z" + base58btc(0xED 0x01 || public key), Bitcoin alphabet, a "1" per leading zero byte.
const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
function base58btc(bytes) {
  let n = 0n;
  for (const b of bytes) n = n * 256n + BigInt(b);
  let out = "";
  while (n > 0n) {
    out = ALPHABET[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = "1" + out;
  }
  return out;
}
const did = "did:key:z" + base58btc(Buffer.concat([Buffer.from([0xed, 0x01]), publicKey]));

// RFC 8785 for a document of strings only: members sorted by UTF-16 code units (JavaScript's default string order),
// strings as JSON.stringify escapes them, which is what RFC 8785 §3.2.2.2 prescribes.
function jcs(value) {
  if (typeof value === "string") return JSON.stringify(value);
  return "{" + Object.keys(value).sort().map((k) => JSON.stringify(k) + ":" + jcs(value[k])).join(",") + "}";
}

// RFC 3339 UTC with whole seconds.
const time = (seconds) => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
const now = Math.floor(Date.now() / 1000);
const session = {
  type: "agentsec.session.v1",
  principalDid: did,
  audience,
  nonce: crypto.randomBytes(16).toString("base64url"),
  issuedAt: time(now - 5),
  expiresAt: time(now - 5 + lifetime),
  signedBy: did,
};
const signingInput = Buffer.concat([Buffer.from(session.type, "utf8"), Buffer.from([0]), Buffer.from(jcs(session), "utf8")]);
session.signature = crypto.sign(null, signingInput, privateKey).toString("base64url");

// The text in another member order and layout than JCS on purpose: only the signed bytes are canonical.
const text = JSON.stringify(session, null, 1);
process.stdout.write(JSON.stringify({ did, session: text, bearer: "Bearer " + Buffer.from(text, "utf8").toString("base64url") }));
