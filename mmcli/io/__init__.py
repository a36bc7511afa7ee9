"""Reading input files: tables and images."""
