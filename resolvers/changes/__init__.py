"""The change feed: the register's change events, in the order integrated systems read them."""
