"""Everything that touches the disk lives in this package."""
