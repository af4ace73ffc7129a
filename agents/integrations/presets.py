"""Ready-made MCP server settings (the Shopify preset) and how their results are shown.

A preset fills the fields an admin left blank — it never overwrites a choice — and knows
which of its tools return products (shown as cards, with quick replies) and which one lists
a customer's orders (used for the personalized greeting).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agents.models import McpServer

MAX_CARDS = 6
MAX_QUICK_REPLIES = 3
QUICK_REPLY_LENGTH = 80  # what a visitor may send as one quick reply


@dataclass(frozen=True)
class Preset:
    allowed_tools: tuple[str, ...]
    private_tools: tuple[str, ...]
    customer_id_argument: str
    # Tools whose results are products, shown to the visitor as cards.
    product_tools: frozenset[str] = frozenset()
    # The private tool listing the customer's orders, newest first (for the greeting).
    orders_tool: str = ""


PRESETS: dict[str, Preset] = {
    McpServer.Preset.SHOPIFY: Preset(
        allowed_tools=("get_customer_orders", "get_order_status", "search_products"),
        private_tools=("get_customer_orders", "get_order_status"),
        customer_id_argument="customer_id",
        # Shopify's own Storefront MCP (https://{shop}.myshopify.com/api/mcp) names its
        # product search `search_catalog` (earlier `search_shop_catalog`).
        product_tools=frozenset({"search_products", "search_catalog", "search_shop_catalog"}),
        orders_tool="get_customer_orders",
    )
}


def preset_for(server: McpServer) -> Preset | None:
    return PRESETS.get(server.preset)


def preset_defaults_apply(server: McpServer) -> list[str]:
    """Fill the blank fields of `server` from its preset; the names of the fields filled."""
    preset = preset_for(server)
    if preset is None:
        return []
    filled = []
    if not server.allowed_tools:
        server.allowed_tools = list(preset.allowed_tools)
        filled.append("allowed_tools")
    if not server.private_tools:
        server.private_tools = list(preset.private_tools)
        filled.append("private_tools")
    if not server.customer_id_argument:
        server.customer_id_argument = preset.customer_id_argument
        filled.append("customer_id_argument")
    return filled


def orders_tool_of(server: McpServer) -> str:
    """The server's order-history tool, when its preset has one and the agent may call it."""
    preset = preset_for(server)
    if preset is None or not preset.orders_tool or preset.orders_tool not in server.allowed_tools:
        return ""
    return preset.orders_tool


# --- Product cards -----------------------------------------------------------------------


def presentation_for(
    server: McpServer, tool: str, data: Any
) -> tuple[list[dict[str, Any]], list[str]]:
    """Cards and quick replies for a tool's structured result (none for most tools)."""
    preset = preset_for(server)
    if preset is None or tool not in preset.product_tools:
        return [], []
    cards = product_cards(data)
    replies = [f"More about {card['title']}" for card in cards[:MAX_QUICK_REPLIES]]
    return cards, [text for text in replies if len(text) <= QUICK_REPLY_LENGTH]


def product_cards(data: Any) -> list[dict[str, Any]]:
    """`{title, price, imageUrl, url}` for each product of a search result.

    Stores shape products differently (Shopify's Storefront MCP, custom servers), so the
    common spellings are accepted; a product without a title is skipped. Only http(s) links
    survive; the widget checks them again.
    """
    cards = []
    for product in _products(data)[:MAX_CARDS]:
        title = _text(product.get("title") or product.get("name"))
        if not title:
            continue
        card: dict[str, Any] = {"title": title[:200]}
        price = _price(product)
        if price:
            card["price"] = price
        image = _http_url(_image(product))
        if image:
            card["imageUrl"] = image
        link = _http_url(
            product.get("url") or product.get("productUrl") or product.get("onlineStoreUrl")
        )
        if link:
            card["url"] = link
        cards.append(card)
    return cards


def _products(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        for key in ("products", "items", "results", "result"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
    if not isinstance(data, list):
        return []
    return [item for item in data if isinstance(item, dict)]


def _price(product: dict[str, Any]) -> str:
    price = product.get("price")
    if price is None and isinstance(product.get("price_range"), dict):
        price = product["price_range"].get("min")
    if isinstance(price, dict):  # {"amount": "289.00", "currencyCode": "USD"}
        amount = _text(price.get("amount"))
        currency = _text(price.get("currencyCode") or price.get("currency"))
        return f"{amount} {currency}".strip()[:40]
    if isinstance(price, int | float) and not isinstance(price, bool):
        currency = _text(product.get("currency"))
        return f"{price:.2f} {currency}".strip()
    return _text(price)[:40]


def _image(product: dict[str, Any]) -> Any:
    for key in ("imageUrl", "image_url", "image"):
        value = product.get(key)
        if isinstance(value, dict):
            value = value.get("url")
        if value:
            return value
    images = product.get("images")
    if isinstance(images, list) and images:
        first = images[0]
        return first.get("url") if isinstance(first, dict) else first
    return None


def _http_url(value: Any) -> str:
    text = _text(value)
    return text[:2000] if text.lower().startswith(("https://", "http://")) else ""


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""
