"""The economics' inputs that are not measured: prices and the business case's figures, with their date."""

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Polygon PoS prices assumed on 2026-11-30, not a live quote (no network here to check one):
# 30 gwei is the minimum priority fee Polygon PoS validators take (wallets' 1.5 gwei Ethereum default
# gets stuck: maticnetwork/matic.js#373), with little base fee on top outside congestion; POL near
# $0.20 is where it traded in late 2025 (CoinGecko). Give today's with --pol-usd and --gwei.
POL_USD = 0.20
GAS_GWEI = 30.0
PRICES_AS_OF = "assumed 2026-11: 30 gwei minimum priority fee, POL at its late-2025 level"


class Assumptions(BaseModel):
    """What the cost comparison assumes; printed with every report."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pol_usd: float = Field(default=POL_USD, gt=0)  # price of 1 POL in US dollars
    gas_gwei: float = Field(default=GAS_GWEI, gt=0)  # gas price paid on Polygon PoS, in gwei
    prices_as_of: str = PRICES_AS_OF  # when and where the two prices above come from
    usdc_usd: float = Field(default=1.0, gt=0)  # 1 USDC in dollars
    tickets_per_day: int = Field(default=10_000, gt=0)  # the business case's support volume
    escalated_share: float = Field(default=0.05, gt=0, le=1)  # share of tickets the AI hands to a human
    price_per_resolution_usd: float = Field(default=15.0, ge=0)  # reward a specialist gets per resolution
    team_agents_low: int = Field(default=50, gt=0)  # full-time agents a team without the AI needs, low end
    team_agents_high: int = Field(default=100, gt=0)  # ... and high end
    salary_usd_low: float = Field(default=45_000, gt=0)  # yearly cost of one full-time agent, low end
    salary_usd_high: float = Field(default=65_000, gt=0)  # ... and high end

    @model_validator(mode="after")
    def _ranges_in_order(self) -> "Assumptions":
        if self.team_agents_low > self.team_agents_high or self.salary_usd_low > self.salary_usd_high:
            raise ValueError(
                "team size and salary are ranges: give the low end first "
                f"(agents {self.team_agents_low}-{self.team_agents_high}, "
                f"salary {self.salary_usd_low:,.0f}-{self.salary_usd_high:,.0f})"
            )
        return self
