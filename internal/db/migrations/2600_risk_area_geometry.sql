-- A risk area's shape, when the operator gave one: a GeoJSON geometry
-- (Point, Polygon or MultiPolygon, WGS 84), validated and written compact.
-- Region codes carry no coordinates, so '' (none) is the common case and the
-- open data's feature then has a null geometry.
ALTER TABLE risk_areas ADD COLUMN geometry TEXT NOT NULL DEFAULT '';
