-- The tables of the payment service (MySQL / MariaDB, InnoDB).
CREATE TABLE accounts (
  id INT NOT NULL PRIMARY KEY,
  owner VARCHAR(40) NOT NULL,
  balance DECIMAL(12,2) NOT NULL DEFAULT 0,
  opened_on DATE NOT NULL
) ENGINE=InnoDB;

CREATE TABLE ledger (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  account_id INT NOT NULL,
  amount DECIMAL(12,2) NOT NULL,
  booked_at DATETIME NOT NULL,
  CONSTRAINT fk_ledger_account FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE=InnoDB;

CREATE TABLE audit (
  id INT NOT NULL PRIMARY KEY,
  note VARCHAR(40) NOT NULL,
  seen_at DATETIME NULL
) ENGINE=InnoDB;
