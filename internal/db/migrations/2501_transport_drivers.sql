-- The driver on duty in each vehicle: bound when the company scans the
-- driver's code at the start of the shift (admitted only when green),
-- replaced by the next driver bound. Goes with the persons at the
-- wind-down.
CREATE TABLE transport_drivers (
    vehicle_id  TEXT PRIMARY KEY REFERENCES transport_vehicles (id),
    org_id      TEXT NOT NULL,
    person_num  BIGINT NOT NULL,
    masked_name TEXT NOT NULL,
    bound_at    BIGINT NOT NULL,
    bound_by    TEXT NOT NULL
);
