"""Individual cortical parcellation: boundary maps, parcels and networks."""
