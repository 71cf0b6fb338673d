"""Off-line analysis around the ACD: Erlang B/C/A (`erlang`), the discrete-event
traffic harness (`traffic`), and the Asterisk queue_log format (`queue_log`,
`export`)."""
