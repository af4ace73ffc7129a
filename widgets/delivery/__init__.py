"""Delivery: what the public widget endpoints serve — snapshots, public and page config,
CORS, uploaded assets, custom domains and the embed snippet."""
