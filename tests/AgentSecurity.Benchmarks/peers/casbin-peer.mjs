// The typical grant as a Casbin model and policy, decided by node-casbin in process: a policy row per granted action
// and scope, paths by globMatch, hosts by regexMatch (globMatch's '*' would cross the dots of a host), and the time
// window as ISO 8601 UTC text, which compares in time order.
import { newEnforcer, newModelFromString, StringAdapter } from 'casbin';
import { grantedActions, pathPrefix, hostPattern } from './grant-terms.mjs';

const model = `
[request_definition]
r = sub, act, obj, now

[policy_definition]
p = sub, act, obj, match, from, until

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.sub == p.sub && r.act == p.act && r.now >= p.from && r.now < p.until && (p.match == "any" || (p.match == "glob" && globMatch(r.obj, p.obj)) || (p.match == "regex" && regexMatch(r.obj, p.obj)))
`;

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function rows(grant, from, until) {
  const lines = [];
  for (const { action, kind, patterns } of grantedActions(grant)) {
    if (patterns === null || kind === 'none') {
      lines.push([grant.agent, action, '*', 'any']);
      continue;
    }
    for (const pattern of patterns) {
      if (kind === 'path') {
        lines.push([grant.agent, action, `${pathPrefix(pattern)}**`, 'glob']);
      } else {
        const host = hostPattern(pattern);
        const port = host.port === '*' ? '[0-9]+' : host.port;
        lines.push([grant.agent, action, `^${host.oneMoreLabel ? '[^.:]+\\.' : ''}${escape(host.name)}:${port}$`, 'regex']);
      }
    }
  }
  return lines.map((line) => `p, ${[...line, from, until].join(', ')}`).join('\n');
}

export const iso = (seconds) => new Date(seconds * 1000).toISOString();

export async function casbinPeer(grant, issuedAt, clockSkewSeconds) {
  const policy = rows(grant, iso(issuedAt - clockSkewSeconds), iso(issuedAt + grant.validForSeconds));
  const enforcer = await newEnforcer(newModelFromString(model), new StringAdapter(policy));
  return {
    policy,
    decide: (request, now) => enforcer.enforceSync(grant.agent, request.capability, request.resource ?? '', iso(now)),
  };
}
