// What both peers need of the kernel's grant: which actions each capability level gives, and the scope patterns
// split into the parts the peers' matchers can express. A pattern the kernel accepts but this translation does not
// is refused here, so that a peer never answers for a grant it was not given.

const levels = { none: [], read: ['read'], write: ['read', 'write'], full: ['read', 'write', 'delete'] };

/** The actions the grant gives, each with the scope patterns that bound it (null: not scoped). */
export function grantedActions(grant) {
  const { capabilities: c, scopes } = grant;
  const actions = [];
  for (const verb of levels[c.fileSystem]) actions.push({ action: `fileSystem:${verb}`, kind: 'path', patterns: scopes.fileSystem ?? null });
  for (const verb of levels[c.memory]) actions.push({ action: `memory:${verb}`, kind: 'path', patterns: scopes.memory ?? null });
  for (const direction of ['outbound', 'inbound']) {
    if (c.network === direction || c.network === 'full') actions.push({ action: `network:${direction}`, kind: 'host', patterns: scopes.network ?? null });
  }
  for (const flag of ['subprocess', 'vectorDb', 'llm']) {
    if (c[flag]) actions.push({ action: flag, kind: 'none', patterns: null });
  }
  return actions;
}

/** A path or key pattern PREFIX/** (the only form the typical grant uses): the literal prefix, slash included. */
export function pathPrefix(pattern) {
  if (!pattern.endsWith('/**') || pattern.slice(0, -3).includes('*')) {
    throw new Error(`pattern ${pattern} is not translated for the peers: only PREFIX/** is`);
  }
  return pattern.slice(0, -2);
}

/** A host pattern *.NAME:PORT or NAME:PORT, the kernel's '*' being exactly one more label. */
export function hostPattern(pattern) {
  const match = /^(\*\.)?([a-z0-9._-]+):([0-9]+|\*)$/.exec(pattern);
  if (!match || match[2].includes('*')) {
    throw new Error(`pattern ${pattern} is not translated for the peers`);
  }
  return { oneMoreLabel: match[1] !== undefined, name: match[2], port: match[3] };
}
