// Asks the running kernel (./run.sh --detach) every check of requests.json that happens now, its differences too,
// under the typical grant signed and applied for a new tenant, and exits 1 unless each answer (allowed and reason) is
// the one recorded there: the answers the peers are held to in bench.mjs are the kernel's own. The check after expiry
// is left to Grains.Tests: the cluster's clock cannot be moved from here.
//   node kernel-answers.mjs        (from any folder; calls the repository's ./agentsec; AGENTSEC_GATEWAY as for it)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const repo = path.resolve(new URL('.', import.meta.url).pathname, '../../..');
const agentsec = (args, okCodes = [0]) => {
  try {
    return { code: 0, out: execFileSync(path.join(repo, 'agentsec'), args, { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (error) {
    if (!okCodes.includes(error.status)) {
      throw new Error(`agentsec ${args.join(' ')} exited ${error.status}: ${error.stderr}${error.stdout}`);
    }
    return { code: error.status, out: error.stdout };
  }
};

const { grant, requests, differences } = JSON.parse(readFileSync(new URL('./requests.json', import.meta.url), 'utf8'));
const work = mkdtempSync(path.join(tmpdir(), 'peers-'));
const tenant = `peers${Date.now().toString(36)}`;
const agent = grant.agent.split('/')[1];
try {
  const key = path.join(work, 'root.key');
  agentsec(['key', 'new', '--out', key]);
  const root = JSON.parse(readFileSync(key, 'utf8')).did;
  const operatorKey = process.env.AGENTSEC_OPERATOR_KEY ?? path.join(repo, '.agentsec', 'operator.key');
  agentsec(['tenant', 'create', tenant, '--root', root, '--operator-key', operatorKey]);

  const c = grant.capabilities;
  const sign = ['grant', 'sign', '--key', key, '--tenant', tenant, '--agent', agent, '--fs', c.fileSystem, '--net', c.network,
    '--memory', c.memory, '--expires-in', `${grant.validForSeconds / 3600}h`, '--out', path.join(work, 'grant.json')];
  for (const flag of ['subprocess', 'vectorDb', 'llm']) if (c[flag]) sign.push(`--${flag.toLowerCase()}`);
  for (const [kind, patterns] of Object.entries(grant.scopes)) for (const p of patterns) sign.push('--scope', `${kind}=${p}`);
  agentsec(sign);
  agentsec(['grant', 'apply', path.join(work, 'grant.json')]);

  const wrong = [];
  let asked = 0;
  for (const request of [...requests, ...differences.requests].filter((r) => r.atSeconds === undefined)) {
    const args = ['check', `${tenant}/${agent}`, request.capability, '--json'];
    if (request.resource !== undefined) args.push('--resource', request.resource);
    const answer = JSON.parse(agentsec(args, [0, 1]).out);
    asked++;
    if (answer.allowed !== request.allowed || answer.reason !== request.reason) {
      wrong.push(`${request.name}: the kernel answered ${answer.allowed} (${answer.reason}), requests.json says ${request.allowed} (${request.reason})`);
    }
  }
  if (wrong.length > 0) {
    console.error(`requests.json is not what the kernel answers:\n  ${wrong.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`${asked} checks of requests.json answered by the kernel as recorded (tenant ${tenant})`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
