"""The language-neutral wire contracts: JSON Schema files and the validators built from them."""
