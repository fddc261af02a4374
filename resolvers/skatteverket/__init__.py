"""Skatteverket's person lookup (Personpost): the contract, a resilient client, a simulator.

The fallback answers lookups the local register cannot: every samordningsnummer, and
a complete personnummer that is not in the register. Nothing it answers is ever
written into the register.
"""
