-- An unterminated string runs to the end of the file: one statement, one problem.
SELECT 'unterminated;
SELECT 2;
