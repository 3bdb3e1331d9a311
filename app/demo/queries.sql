-- Queries for the demo "Customer statement" report (SQLite dialect).
--
-- Binds:  :customerId  integer customer id
--         :period      'YYYY-MM-DD', the first day of the statement month
--
-- Each result set is passed to the template under the name in its label,
-- as a list of row dicts.

-- name: customer
-- The customer being billed (0 or 1 row). Template: {% set c = customer | first %}
SELECT *
FROM customers
WHERE id = :customerId;

-- name: transactions
-- The customer's transactions within the statement month, oldest first.
SELECT id, customer_id, booked_on, description, amount_cents
FROM transactions
WHERE customer_id = :customerId
  AND booked_on >= :period
  AND booked_on < date(:period, '+1 month')
ORDER BY booked_on, id;

-- name: opening
-- Balance brought forward: everything booked before the statement month (always 1 row).
-- Template: (opening | first).opening_cents
SELECT COALESCE(SUM(amount_cents), 0) AS opening_cents
FROM transactions
WHERE customer_id = :customerId
  AND booked_on < :period;

-- name: customers (repeating / recipients query)
-- One statement per customer; columns map to params.customerId and the delivery address.
SELECT id, name, email, address, city, postcode, country FROM customers ORDER BY id;
