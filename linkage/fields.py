"""Column-name constants: the canonical record fields, their synonyms, and the system columns.

Imports nothing from the package. Every other module names fields through these constants.
"""

from __future__ import annotations

# System columns added to every record.
UNIQUE_ID = "unique_id"
SOURCE = "source"
SOURCE_ID = "source_id"
SOURCE_ROW = "source_row"
PARSE_ERROR = "parse_error"
SYSTEM_COLUMNS = (UNIQUE_ID, SOURCE, SOURCE_ID, SOURCE_ROW, PARSE_ERROR)

# Columns inside an input file that could leak ground truth: kept as raw data under a new name, never features.
ORIGIN_COLUMNS = {"source": "origin_source", "label": "origin_label", "database": "origin_database"}

# Canonical fields and the raw column names that map to them, in order of preference.
# Matching is case-insensitive and ignores spaces, dashes and underscores.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("id", "record_id", "recordid", "unique_id", "paperid", "paper_id", "key", "citekey", "entry_id",
           "entity_id", "identifier", "uid", "accession_number", "an", "eid", "ut", "item_key", "zotero_key",
           "raw_unique_id", "raw_source_id"),
    "title": ("title", "primary_title", "paper_title", "article_title", "ti", "t1", "document_title", "name",
              "display_name", "paper_name", "title_of_paper"),
    "authors": ("authors", "author", "author_names", "creators", "au", "a1", "author_list", "authorlist",
                "contributors", "author_full_names", "full_author_names", "fau", "af", "authors_list",
                "author_name"),
    "date": ("publication_date", "date", "published", "pub_date", "publicationdate", "date_published",
             "published_date", "created", "issued", "da", "dp", "publication_date_full"),
    "year": ("year", "py", "pub_year", "publication_year", "yr", "year_published", "publicationyear"),
    "venue": ("venue", "journal", "booktitle", "journal_title", "container_title", "secondary_title", "jo",
              "jf", "t2", "source_title", "publication", "publication_title", "conference", "series",
              "alternate_title1", "journal_name", "journal_book", "jt", "so", "journal_full_title",
              "conference_name", "proceedings_title", "journaltitle", "periodical"),
    "volume": ("volume", "vol", "vl", "vi"),
    "issue": ("issue", "number", "no", "is", "ip", "issue_number"),
    "pages": ("pages", "page", "page_range", "pagination", "pg", "pages_range"),
    "first_page": ("start_page", "first_page", "sp", "page_start", "bp", "beginning_page"),
    "last_page": ("end_page", "last_page", "ep", "page_end", "ending_page"),
    "doi": ("doi", "do", "di", "doi_url", "article_doi", "doi_link"),
    "arxiv_id": ("arxiv_id", "arxiv", "arxivid", "eprint", "arxiv_eprint", "paper_arxiv_id", "arxiv_identifier"),
    "pmid": ("pmid", "pubmed_id", "pubmed", "pmid_number"),
    "isbn": ("isbn", "issn_isbn", "sn", "isbns"),
    "urls": ("urls", "url", "link", "links", "ur", "url_pdf", "pdf_url", "paper_url", "repository_url",
             "code_url", "l1", "l2", "url_abs", "paper_url_abs", "repo_url", "landing_page_url"),
    "abstract": ("abstract", "ab", "summary", "abstract_note", "description", "n2", "abstract_text"),
    "publisher": ("publisher", "pb", "publisher_name"),
    "institution": ("institution", "school", "organization", "organisation"),
    "report_number": ("tech", "report_number", "number_report", "reportnumber"),
    "type": ("type", "entrytype", "entry_type", "publication_type", "document_type", "ty", "doc_type",
             "publicationtypes", "pub_type", "item_type", "type_of_reference", "ref_type", "pt"),
    "note": ("note", "notes", "comment", "comments", "n1"),
    "language": ("language", "lang", "la", "language_of_original_document"),
}

CANONICAL_FIELDS = tuple(SYNONYMS)


def column_key(name: str) -> str:
    """The comparison key of a column name: lowercase, without spaces, dashes, dots or underscores."""
    return "".join(ch for ch in str(name).lower() if ch.isalnum())
