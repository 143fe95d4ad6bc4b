"""The persona model `journey prepare` runs: one row of features per customer (`features`), k-means with
k chosen by silhouette (`clusters`), names from rules or plain words (`naming`), and the stored table
`personas.parquet` with the choice of k in its metadata (`table.write_personas`, `table.stored_k_choice`).
Notebook 05 (`journeylib.personas`) explains it. Definitions: docs/personas_and_feedback.md.
"""
