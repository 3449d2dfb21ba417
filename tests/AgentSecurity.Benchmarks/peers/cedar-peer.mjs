// The typical grant as a Cedar policy set, decided by cedar-wasm in process. The policies are what a grant would
// compile to: a permit per granted action bounded by its scopes, and a forbid outside the grant's time window.
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { grantedActions, pathPrefix, hostPattern } from './grant-terms.mjs';

const policySetId = 'typical-grant';

function condition(kind, patterns) {
  if (patterns === null || kind === 'none') return 'true';
  const alternatives = patterns.map((pattern) => {
    if (kind === 'path') return `context.resource like "${pathPrefix(pattern)}*"`;
    const host = hostPattern(pattern);
    const port = host.port === '*' ? '*' : host.port;
    // Cedar's '*' also crosses dots: the second 'like' keeps the kernel's "exactly one more label".
    return host.oneMoreLabel
      ? `(context.resource like "*.${host.name}:${port}" && !(context.resource like "*.*.${host.name}:${port}"))`
      : `context.resource like "${host.name}:${port}"`;
  });
  return alternatives.join(' || ');
}

export function cedarPolicies(grant, issuedAt, clockSkewSeconds) {
  const principal = `Agent::"${grant.agent}"`;
  const permits = grantedActions(grant).map(({ action, kind, patterns }, i) =>
    `@id("permit-${i}")\npermit (principal == ${principal}, action == Action::"${action}", resource)\nwhen { ${condition(kind, patterns)} };`);
  const window = `@id("window")\nforbid (principal, action, resource)\nunless { context.now >= ${issuedAt - clockSkewSeconds} && context.now < ${issuedAt + grant.validForSeconds} };`;
  return [...permits, window].join('\n\n');
}

function call(grant, request, now) {
  const resource = request.resource ?? '';
  return {
    principal: { type: 'Agent', id: grant.agent },
    action: { type: 'Action', id: request.capability },
    resource: { type: 'Resource', id: resource },
    context: { resource, now },
    entities: [],
  };
}

function allowed(answer) {
  if (answer.type !== 'success') {
    throw new Error(`cedar failed: ${JSON.stringify(answer.errors)}`);
  }
  return answer.response.decision === 'allow';
}

/**
 * Two ways to ask: isAuthorized parses the policy text on every call (its documented entry point);
 * statefulIsAuthorized decides with a policy set parsed once, as the kernel compiles a grant once at apply.
 */
export function cedarPeer(grant, issuedAt, clockSkewSeconds) {
  const staticPolicies = cedarPolicies(grant, issuedAt, clockSkewSeconds);
  const parsed = cedar.preparsePolicySet(policySetId, { staticPolicies });
  if (parsed.type !== 'success') {
    throw new Error(`cedar refused the policy set: ${JSON.stringify(parsed.errors)}`);
  }

  return {
    version: cedar.getCedarVersion(),
    policies: staticPolicies,
    parsedEachCall: (request, now) => allowed(cedar.isAuthorized({ ...call(grant, request, now), policies: { staticPolicies } })),
    preparsed: (request, now) => allowed(cedar.statefulIsAuthorized({ ...call(grant, request, now), preparsedPolicySetId: policySetId })),
  };
}
