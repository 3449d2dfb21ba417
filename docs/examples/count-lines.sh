#!/bin/sh
# Counts the lines of its input into a file of its workspace, then asks the host for the agent's memory and for
# /etc/passwd through the host socket (JSON lines), printing the raw replies.
lines=$(grep -c '')  # counts a last line without a newline too
echo "$lines lines" > /workspace/lines.txt
echo "wrote /workspace/lines.txt: $(cat /workspace/lines.txt)"

host() {
  perl -MIO::Socket::UNIX -e '
    my $host = IO::Socket::UNIX->new(Peer => $ENV{AGENTSEC_HOST_SOCKET}) or die "no host socket: $!\n";
    print $host "$ARGV[0]\n";
    print scalar <$host>;' "$1"
}
host '{"op": "memory.get", "arg": "notes/word-count"}'
host '{"op": "fs.read", "arg": "/etc/passwd"}'
