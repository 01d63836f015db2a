-- Synthetic recipients for scripts/bench: a realistic mix for policy application. About one
-- name in ten carries diacritics (ICU transliteration), and 97 × 101 × 11 name combinations
-- over N recipients make many John Does (collisions, numeric suffixes).
-- Expects a temp table n(value) holding 1..N. Writes straight into the schema: a fixture.
CREATE TEMP TABLE given (i INTEGER PRIMARY KEY, name TEXT);
CREATE TEMP TABLE surname (i INTEGER PRIMARY KEY, name TEXT);
WITH RECURSIVE g(i, name) AS (
    SELECT 0, 'x' UNION ALL SELECT i + 1, 'x' FROM g WHERE i < 96)
INSERT INTO given SELECT i, CASE
    WHEN i % 10 = 1 THEN json_extract('["Jürgen","Zoë","Łukasz","José","Åsa","Søren","Émilie","Dvořák","Ingrid","Ümit"]', '$[' || ((i / 10) % 10) || ']')
    WHEN i % 10 = 2 THEN json_extract('["Mary Ann","Jean-Luc","O''Neil","Anne-Marie","De Wayne","J.R.","Li","Ana Sofia","Björn","Nuño"]', '$[' || ((i / 10) % 10) || ']')
    ELSE json_extract('["John","Jane","Michael","Sarah","David","Laura","James","Emma","Robert","Olivia","William","Sophia","Richard","Isabella","Thomas","Mia","Charles","Amelia","Daniel","Harper"]', '$[' || (i % 20) || ']') || CASE WHEN i >= 20 THEN char(97 + (i % 26)) ELSE '' END
    END FROM g;
WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 100)
INSERT INTO surname SELECT i, CASE
    WHEN i % 10 = 3 THEN json_extract('["Müller","Ørsted","Żółć","Núñez","Straße","Lüdenscheidt","Čapek","Größe","Håkansson","Ó Briain"]', '$[' || ((i / 10) % 10) || ']')
    WHEN i % 10 = 4 THEN json_extract('["O''Connell","van der Berg","Smith-Jones","de la Cruz","MacDonald","D''Angelo","St. John","Le Blanc","von Trapp","Al-Farsi"]', '$[' || ((i / 10) % 10) || ']')
    ELSE json_extract('["Smith","Johnson","Williams","Brown","Jones","Garcia","Miller","Davis","Rodriguez","Martinez","Hernandez","Lopez","Gonzalez","Wilson","Anderson","Thomas","Taylor","Moore","Jackson","Martin"]', '$[' || (i % 20) || ']') || CASE WHEN i >= 20 THEN char(97 + (i % 26)) || 'son' ELSE '' END
    END FROM s;
INSERT INTO recipient (alias, kind, given_name, sn, company, department, source)
SELECT printf('u%07d', value), 'mailbox', given.name,
       surname.name || CASE (value / 9797) % 11 WHEN 0 THEN '' ELSE '-' || (SELECT name FROM surname s2 WHERE s2.i = (value / 9797) % 101) END,
       CASE value % 3 WHEN 0 THEN 'Fabrikam' ELSE 'Contoso' END,
       CASE value % 7 WHEN 0 THEN 'Sales' WHEN 1 THEN 'Temp' ELSE 'Engineering' END,
       CASE value % 3 WHEN 0 THEN 'fabrikam' ELSE 'contoso' END
FROM n JOIN given ON given.i = value % 97 JOIN surname ON surname.i = (value / 97) % 101;
