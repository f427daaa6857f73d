"""``st2common.services.packs``: the pack index (StackStorm Exchange index.json format)."""

import json
import os
import urllib.request

__all__ = ["fetch_pack_index", "get_pack_from_index", "search_pack_index"]

DEFAULT_INDEX_URL = "https://index.stackstorm.org/v1/index.json"


def fetch_pack_index(index_url=None, logger=None, allow_empty=False, proxy_config=None):
    urls = index_url or os.environ.get("SQUALL_PACK_INDEX_URL") or DEFAULT_INDEX_URL
    urls = urls if isinstance(urls, list) else [urls]
    index, status = {}, []
    for url in urls:
        try:
            if os.path.isfile(url):
                with open(url) as f:
                    data = json.load(f)
            else:
                with urllib.request.urlopen(url, timeout=30) as response:
                    data = json.loads(response.read().decode("utf-8"))
            index.update(data.get("packs", {}))
            status.append({"url": url, "packs": len(data.get("packs", {})), "message": None, "error": None})
        except Exception as exc:  # st2 reports each index's failure in the status list
            status.append({"url": url, "packs": 0, "message": str(exc), "error": type(exc).__name__})
    if not index and not allow_empty:
        raise ValueError("No results from the %s: tried %s.\nStatus: %s"
                         % ("index" if len(urls) == 1 else "indexes", ", ".join(urls), json.dumps(status, indent=4)))
    return index, status


def get_pack_from_index(pack, proxy_config=None):
    if not pack:
        raise ValueError("Pack name must be specified.")
    index, _ = fetch_pack_index(proxy_config=proxy_config)
    return index.get(pack)


def search_pack_index(query, exclude=None, priority=None, case_sensitive=True, proxy_config=None):
    if not query:
        raise ValueError("Query must be specified.")
    exclude = exclude or ["tags", "versions"]
    priority = priority or ["ref", "name"]
    if not case_sensitive:
        query = str(query).lower()
    index, _ = fetch_pack_index(proxy_config=proxy_config)
    matches = [[] for _ in range(len(priority) + 1)]
    for pack in index.values():
        for key, value in pack.items():
            if key in exclude:
                continue
            text = str(value) if case_sensitive else str(value).lower()
            if query in text:
                slot = priority.index(key) if key in priority else len(priority)
                matches[slot].append(pack)
                break
    return [pack for group in matches for pack in group]
