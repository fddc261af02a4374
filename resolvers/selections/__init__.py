"""Larger selections (större urval): criteria, price, orders and their export."""
