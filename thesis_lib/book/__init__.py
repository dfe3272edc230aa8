"""The book's pages: generated pages (errata, results), the prose checks, figures, tables, diagrams and
the interactive explorers."""
