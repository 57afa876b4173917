package com.shop.web;

import com.shop.service.RefundService;
import com.shop.service.TransferService;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/** HTTP entry points of the payment flows. */
@RestController
@RequestMapping("/payments")
public class PaymentController {

    public record PayoutRequest(long accountId, long amountCents) {}

    public record SettleRequest(long accountId, long amountCents) {}

    private final TransferService transfers;
    private final RefundService refunds;

    public PaymentController(TransferService transfers, RefundService refunds) {
        this.transfers = transfers;
        this.refunds = refunds;
    }

    @PostMapping("/payouts")
    public ResponseEntity<Long> requestPayout(@RequestBody PayoutRequest req) {
        if (req.amountCents() <= 0) {
            return ResponseEntity.badRequest().build();
        }
        return ResponseEntity.ok(transfers.requestPayout(req.accountId(), req.amountCents()));
    }

    @PostMapping("/{entryId}/settle")
    public ResponseEntity<Void> settle(@PathVariable long entryId, @RequestBody SettleRequest req) {
        transfers.settle(entryId, req.accountId(), req.amountCents());
        return ResponseEntity.noContent().build();
    }

    @PostMapping("/{entryId}/refund")
    public ResponseEntity<Void> refund(@PathVariable long entryId) {
        refunds.refund(entryId);
        return ResponseEntity.noContent().build();
    }
}
