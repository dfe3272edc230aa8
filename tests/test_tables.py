"""The one Markdown table writer of the chapters."""


from thesis_lib.book import tables


def test_markdown_table():
    text = tables.markdown_table(("model", "MSE"), [("PCA-3", 0.0516089), ("AE", 0.04), ("epochs", 3)])
    assert text.splitlines() == ["| model | MSE |", "|---|---|", "| PCA-3 | 0.05161 |", "| AE | 0.04000 |",
                                 "| epochs | 3 |"]
