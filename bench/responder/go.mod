module kafkawire/bench/responder

go 1.22
