// Counts the words of its input, keeps a running total in the agent's memory, writes a report to its workspace,
// and shows what happens when it reaches for something its grant does not cover.
const words = agentsec.input().split(/\s+/).filter(Boolean).length;
const before = Number(agentsec.memory.get('notes/word-count') ?? 0);
agentsec.memory.put('notes/word-count', String(before + words));
agentsec.fs.write('/workspace/report.txt', `${words} words now, ${before + words} in all\n`);
console.log(agentsec.fs.read('/workspace/report.txt').trim());

try {
  agentsec.fs.read('/etc/passwd');
} catch (e) {
  console.log(`reading /etc/passwd: ${e.code} (denied by the grant: ${e.denied})`);
}
