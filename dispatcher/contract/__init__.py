"""The language-neutral wire contracts: JSON Schema files and the validators built from them.
May import only the domain; services and adapters validate what crosses a port through it."""
