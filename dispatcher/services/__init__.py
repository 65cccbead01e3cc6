"""Application services: each runs one use case (register, route, apply a command) in one
transaction. May import the domain, the contract and the rules engine, and reach storage and
metrics through the ports they are given; never a broker, the CLI or the bootstrap."""
