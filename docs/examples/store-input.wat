;; Stores its input in /workspace/from-wasm.txt through the host API, then tries to read /etc/passwd and prints what
;; the host answered. Strings are (pointer, length) pairs in the module's own memory; -1 as a length passes null.
(module
  (import "agentsec" "input" (func $input (param i32 i32) (result i32)))
  (import "agentsec" "output" (func $output (param i32 i32)))
  (import "agentsec" "call" (func $call (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "agentsec" "reply" (func $reply (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "fs.write")
  (data (i32.const 16) "fs.read")
  (data (i32.const 32) "/workspace/from-wasm.txt")
  (data (i32.const 64) "/etc/passwd")
  (data (i32.const 96) "stored the input\0a")
  (data (i32.const 128) "reading /etc/passwd: ")
  (func (export "run")
    (local $length i32)
    (local $status i32)
    ;; the input goes to offset 4096 (up to 60 KiB of it)
    (local.set $length (call $input (i32.const 4096) (i32.const 61440)))
    (local.set $status
      (call $call (i32.const 0) (i32.const 8) (i32.const 32) (i32.const 24) (i32.const 4096) (local.get $length)))
    (if (i32.eqz (local.get $status))
      (then (call $output (i32.const 96) (i32.const 17))))
    ;; status 0 allowed, 1 denied by the grant, 2 failed; the reply is the value or "code: message"
    (local.set $status
      (call $call (i32.const 16) (i32.const 7) (i32.const 64) (i32.const 11) (i32.const 0) (i32.const -1)))
    (call $output (i32.const 128) (i32.const 21))
    (call $output (i32.const 2048) (call $reply (i32.const 2048) (i32.const 2048)))))
