"""Live sessions: a session and its rounds, the chunks of work it hands the batched trainer, fair shares and pace.
It knows the protocol's messages but nothing of HTTP."""
