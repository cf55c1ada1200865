"""Authentication behind the AuthClient / AuthServer interfaces (sans-I/O)."""
