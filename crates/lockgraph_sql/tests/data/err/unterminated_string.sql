-- An unterminated '...' string ends with its line (a stray quote): its statement is a problem,
-- and the lines after it are read again as SQL (see split.rs). Here it is on the last line.
SELECT 2 + 'unterminated;
