# POST /entries/:entry_id/refund
class RefundsController < ApplicationController
  def create
    RefundService.new.call(params.require(:entry_id))
    head :created
  rescue RefundService::AlreadyRefunded
    head :conflict
  end
end
