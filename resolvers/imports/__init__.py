"""Skatteverket's deliveries into the register: Navet files read, checked and applied."""
