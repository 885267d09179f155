"""Pure renderings of noxgrid's model: tables, JUnit XML."""
