"""Neural-network modules (filled in by the nn issue)."""
