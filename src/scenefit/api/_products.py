"""Product reads and writes. Writes embed what changed and switch the index atomically;
every serving process (and machine, with PostgreSQL) sees them on its next request."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from .._errors import ConfigError, NotFoundError
from ..pipelines import IngestReport
from ..catalog import MAX_DESCRIPTION_CHARS, MAX_ID_CHARS
from ..index import ProductRecord
from ._auth import require_read, require_write
from ._body import json_body, json_content
from ._errors import responses

router = APIRouter(tags=["products"])


class ProductIn(BaseModel):
    """A catalog row: ``description`` is required; any other field is kept as an attribute
    (price, category, tags, …)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={
        "example": {"sku_id": "ELE-8X7", "description": "8X7X3 RSN TRI GEO ELEPHANT 2/A BLK/WHT",
                    "primary_image": "https://images.example.com/ele-8x7.jpg", "price": 12.5}})

    sku_id: str = ""
    description: str = Field(..., min_length=1, max_length=MAX_DESCRIPTION_CHARS)
    primary_image: str | None = Field(None, description="http(s) URL of the product photo.")
    images: list[str] | str | None = Field(
        None, description="Further photos (packshots, lifestyle shots): http(s) URLs, as a list or "
        "one string separated by |. One that fails is reported; the product keeps its other photos.")


class ProductWithId(ProductIn):
    id: str = Field(..., min_length=1, max_length=MAX_ID_CHARS)


class Batch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    products: list[ProductWithId] = Field(..., min_length=1, max_length=1000)


class ProductOut(BaseModel):
    id: str
    sku_id: str
    description: str
    image: str | None
    category: str | None
    colours: list[str]
    materials: list[str]
    image_status: str = Field(description='"ok", "none", or "failed: <reason>"')
    attributes: dict[str, Any]

    @classmethod
    def of(cls, r: ProductRecord) -> "ProductOut":
        return cls.model_validate(r, from_attributes=True)  # the record's fields this model names


class WriteResult(BaseModel):
    added: int
    updated: int
    unchanged: int
    removed: int = 0
    embedded: int = Field(0, description="Vectors computed (the rest came from the embedding cache)")
    image_failures: list[dict[str, Any]] = Field(default_factory=list)
    further_image_failures: list[dict[str, Any]] = Field(
        default_factory=list, description="Further photos that failed (their products keep their other photos)")
    generation: int

    @classmethod
    def of(cls, report: IngestReport, generation: int) -> "WriteResult":
        def listed(failures):
            return [{"id": f.id, "image": f.image, "error": f.error} for f in failures]

        return cls(added=report.added, updated=report.updated, unchanged=report.unchanged,
                   embedded=report.embedded, generation=generation, image_failures=listed(report.image_failures),
                   further_image_failures=listed(report.further_image_failures))


class Deleted(BaseModel):
    deleted: str
    generation: int


def _row(product: ProductIn, product_id: str) -> dict[str, Any]:
    return {**product.model_dump(exclude={"id"}), "id": product_id}


ProductId = Annotated[str, Path(min_length=1, max_length=MAX_ID_CHARS)]


def _body_doc(model: type[BaseModel]) -> dict:
    """The request body of a write, which the view reads itself (after the key check)."""
    return {"requestBody": {"required": True, "content": json_content(model)}}


# Reads: 401 only with SCENEFIT_READ_API_KEY; 422 for an id over the length limit.
_READ = responses(401, 404, 422, 503)
# Writes: a product's image that fails is reported in the answer, not as an error.
_WRITE = responses(401, 403, 413, 415, 422, 503)


@router.get("/v1/products/{product_id}", response_model=ProductOut, summary="One product", responses=_READ)
async def get_product(product_id: ProductId, request: Request, _: None = Depends(require_read)) -> ProductOut:
    engine = request.app.state.service.engine
    return ProductOut.of(await run_in_threadpool(engine.get_product, product_id))


@router.get("/v1/products/{product_id}/image", summary="The product's photo (as ingested)",
            response_class=FileResponse, responses={
                200: {"content": {"image/*": {"schema": {"type": "string", "format": "binary"}}},
                      "description": "The photo, typed from its bytes."}, **_READ})
async def product_image(product_id: ProductId, request: Request, _: None = Depends(require_read)) -> FileResponse:
    engine = request.app.state.service.engine
    path = await run_in_threadpool(engine.product_image, product_id)
    # The type comes from the bytes, not the name (cached downloads have none); never HTML.
    kind = await run_in_threadpool(_image_type, path)
    return FileResponse(path, media_type=kind, headers={"Cache-Control": "max-age=3600",
                                                         "X-Content-Type-Options": "nosniff"})


def _image_type(path) -> str:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return Image.MIME.get(im.format or "", "application/octet-stream")
    except Exception:  # noqa: BLE001 - unreadable now: still not something to render as a page
        return "application/octet-stream"


@router.post("/v1/products:batch", response_model=WriteResult, summary="Add or replace several products",
             description="All or nothing: one invalid product and nothing is written.",
             responses=_WRITE, openapi_extra=_body_doc(Batch))
async def upsert_batch(request: Request, _: None = Depends(require_write)) -> WriteResult:
    batch = await json_body(request, Batch)
    engine = request.app.state.service.engine
    report = await run_in_threadpool(engine.upsert_products, [_row(p, p.id) for p in batch.products])
    return WriteResult.of(report, engine.index.manifest.generation)


@router.put("/v1/products/{product_id}", response_model=WriteResult, summary="Add or replace one product",
            responses=_WRITE, openapi_extra=_body_doc(ProductIn))
async def put_product(product_id: ProductId, request: Request, _: None = Depends(require_write)) -> WriteResult:
    product = await json_body(request, ProductIn)
    engine = request.app.state.service.engine
    if "id" in (product.model_extra or {}) and str(product.model_extra["id"]) != product_id:
        raise ConfigError(f"body id {product.model_extra['id']!r} differs from the URL's {product_id!r}")
    report = await run_in_threadpool(engine.upsert_products, [_row(product, product_id)])
    return WriteResult.of(report, engine.index.manifest.generation)


@router.delete("/v1/products/{product_id}", response_model=Deleted, summary="Remove a product",
               responses=responses(401, 403, 404, 422, 503))
async def delete_product(product_id: ProductId, request: Request, _: None = Depends(require_write)) -> Deleted:
    engine = request.app.state.service.engine
    removed = await run_in_threadpool(engine.delete_products, [product_id])
    if not removed:
        raise NotFoundError(f"no product with id {product_id!r}")
    return Deleted(deleted=product_id, generation=engine.index.manifest.generation)
