"""`lakehouse search --merchant M TEXT`: a merchant's products whose name matches TEXT, from the search index.

What a merchant's search box asks OpenSearch (jobs/storage/published.py's `product_search`), printed as a table: one row
per product, currency and day, best match first. It reads only what `lakehouse publish --sinks opensearch` wrote.
"""

from __future__ import annotations

import sys

from jobs.runtime.arguments import JobArgumentParser
from jobs.runtime.commands import command_parser
from jobs.runtime.exits import run_entry
from jobs.runtime.settings import settings_from
from jobs.sinks import search
from jobs.storage.published import product_search

COLUMNS = ("date", "sku", "currency", "units", "revenue_minor", "name")


def build_parser() -> JobArgumentParser:
    parser = command_parser("search", __doc__)
    parser.add_argument("text", help="words of a product name (full text: any word matches, case ignored)")
    parser.add_argument("--merchant", required=True, help="the merchant whose products are searched")
    parser.add_argument("--size", type=int, default=20, help="at most this many rows (default 20)")
    return parser


def format_hits(hits: list[dict]) -> list[str]:
    rows = [[str(hit["_source"].get(column, "")) for column in COLUMNS] for hit in hits]
    widths = [max(len(column), *(len(row[i]) for row in rows)) for i, column in enumerate(COLUMNS)]
    return [
        "  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip()
        for row in [COLUMNS, *rows]
    ]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def work() -> None:
        from opensearchpy.exceptions import NotFoundError, OpenSearchException

        settings = settings_from(args)
        alias = search.INDICES["gold.product_daily"].alias(settings.opensearch_prefix)
        try:
            answer = search.client(settings.opensearch_url, settings.opensearch_login).search(
                index=alias, body=product_search(args.merchant, args.text, args.size)
            )
        except NotFoundError:
            raise RuntimeError(f"no index {alias} yet: run `lakehouse publish --sinks opensearch` first") from None
        except OpenSearchException as error:
            raise RuntimeError(f"OpenSearch at {settings.opensearch_url}: {error}") from error
        hits = answer["hits"]["hits"]
        total = answer["hits"]["total"]["value"]
        print(f"{args.merchant}: {total:,} product-days match {args.text!r} ({alias}); best {len(hits)}:")
        if hits:
            print("\n".join(format_hits(hits)))

    return run_entry("lakehouse search", work)


if __name__ == "__main__":
    sys.exit(main())
