-- The shop's MySQL schema (InnoDB).
CREATE TABLE accounts (
  id BIGINT PRIMARY KEY,
  owner VARCHAR(80) NOT NULL,
  balance BIGINT NOT NULL
) ENGINE=InnoDB;

CREATE TABLE ledger (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  account_id BIGINT NOT NULL,
  amount BIGINT NOT NULL,
  KEY ledger_account (account_id),
  CONSTRAINT ledger_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE=InnoDB;
