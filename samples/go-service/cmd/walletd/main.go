// Command walletd serves the wallet's HTTP API.
package main

import (
	"database/sql"
	"encoding/json"
	"log"
	"net/http"
	"os"

	_ "github.com/lib/pq"

	"example.com/wallet/internal/service"
)

type settleRequest struct {
	EntryID     int64 `json:"entry_id"`
	AccountID   int64 `json:"account_id"`
	AmountCents int64 `json:"amount_cents"`
}

type refundRequest struct {
	EntryID int64 `json:"entry_id"`
}

func main() {
	db, err := sql.Open("postgres", os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	transfers := service.NewTransferService(db)
	refunds := service.NewRefundService(db)

	http.HandleFunc("POST /settle", func(w http.ResponseWriter, r *http.Request) {
		var req settleRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := transfers.Settle(r.Context(), req.EntryID, req.AccountID, req.AmountCents); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	http.HandleFunc("POST /refund", func(w http.ResponseWriter, r *http.Request) {
		var req refundRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := refunds.Refund(r.Context(), req.EntryID); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
