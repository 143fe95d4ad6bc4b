"""Words: names, raw spellings of event types and channels, survey comment templates."""

from __future__ import annotations

FIRST_NAMES_F = ["Maria", "Jennifer", "Linda", "Patricia", "Elizabeth", "Susan", "Jessica", "Sarah", "Karen",
                 "Nancy", "Lisa", "Emily", "Ashley", "Michelle", "Amanda", "Melissa", "Stephanie", "Rebecca",
                 "Laura", "Sofia", "Olivia", "Emma", "Ava", "Mia", "Chloe", "Priya", "Mei", "Aisha", "Grace",
                 "Hannah", "Lucia", "Camila", "Zoe", "Naomi", "Rachel", "Ana", "Keisha", "Yuki", "Fatima", "Diana"]
FIRST_NAMES_M = ["James", "Robert", "John", "Michael", "David", "William", "Richard", "Joseph", "Thomas",
                 "Charles", "Daniel", "Matthew", "Anthony", "Mark", "Steven", "Andrew", "Joshua", "Kevin",
                 "Brian", "Jose", "Luis", "Carlos", "Wei", "Raj", "Omar", "Ethan", "Noah", "Liam", "Lucas",
                 "Mason", "Jamal", "Hiroshi", "Diego", "Samuel", "Tyler", "Aaron", "Marcus", "Kenji", "Ali", "Peter"]
LAST_NAMES = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
              "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
              "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez",
              "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen",
              "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell",
              "Carter", "Roberts", "Patel", "Kim", "Chen", "Singh", "O'Brien", "Murphy", "Cooper", "Reyes",
              "Ward", "Brooks"]
EMAIL_DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com", "aol.com", "comcast.net"]
EMAIL_DOMAIN_WEIGHTS = [0.45, 0.14, 0.14, 0.12, 0.08, 0.03, 0.04]

# raw spellings seen in exports (each normalises to a taxonomy key); the first is the clean one
EVENT_SPELLINGS = {
    "ad_click": ["ad_click", "Ad Click", "ad-click", "AD_CLICK", "paid click"],
    "site_visit": ["site_visit", "Site Visit", "page view", "Web Visit", "session start"],
    "social_engagement": ["social_engagement", "Social Engagement", "social like", "social comment"],
    "review_read": ["review_read", "Review Read", "read review", "reviews viewed"],
    "video_view": ["video_view", "Video View", "video play"],
    "srp_view": ["srp_view", "SRP View", "Search Results Page", "inventory search"],
    "vdp_view": ["vdp_view", "VDP View", "Vehicle Detail Page", "vdp", "vehicle details"],
    "build_and_price": ["build_and_price", "Build & Price", "build-and-price", "configurator"],
    "compare_models": ["compare_models", "Compare Models", "model comparison"],
    "trade_in_estimate": ["trade_in_estimate", "Trade-In Estimate", "trade-in appraisal", "trade in value"],
    "finance_calculator": ["finance_calculator", "Payment Calculator", "finance calculator", "loan calculator"],
    "lead_form": ["lead_form", "Lead Form", "form submit", "Contact Form"],
    "chat": ["chat", "Chat", "chat started", "Live Chat"],
    "phone_call": ["phone_call", "Phone Call", "inbound call", "Outbound Call"],
    "email_reply": ["email_reply", "Email Reply", "email response"],
    "appointment_set": ["appointment_set", "Appointment Set", "appointment booked"],
    "showroom_visit": ["showroom_visit", "Showroom Visit", "dealer visit", "Walk-In"],
    "test_drive": ["test_drive", "Test Drive", "test-drive", " TEST_DRIVE ", "testdrive"],
    "quote_sent": ["quote_sent", "Quote Sent", "price quote"],
    "credit_application": ["credit_application", "Credit Application", "credit app", "finance application"],
    "deposit": ["deposit", "Deposit", "deposit paid"],
    "service_reminder": ["service_reminder", "Service Reminder", "service-reminder"],
    "service_appointment": ["service_appointment", "Service Appointment", "service booking"],
    "loyalty_signup": ["loyalty_signup", "Loyalty Signup", "loyalty sign up"],
    "review_posted": ["review_posted", "Review Posted", "posted review"],
    "social_share": ["social_share", "Social Share", "share"],
}
CHANNEL_SPELLINGS = {
    "website": ["website", "Website", "Dealer Website", "dealer-site", "www", "OEM site"],
    "search": ["search", "Google Ads", "google", "Bing", "paid search", "SEM", "organic search"],
    "social": ["social", "Facebook", "FB", "Instagram", "TikTok", "social media"],
    "display": ["display", "Display", "banner", "programmatic", "YouTube"],
    "email": ["email", "Email", "e-mail", "newsletter"],
    "sms": ["sms", "SMS", "text message"],
    "third_party": ["third_party", "Cars.com", "Autotrader", "CarGurus", "TrueCar", "Edmunds", "KBB"],
    "phone": ["phone", "Phone", "inbound call", "call"],
    "chat": ["chat", "Chat", "live chat", "web chat"],
    "walk_in": ["walk_in", "Walk-in", "walk in", "Showroom", "WALK_IN"],
    "referral": ["referral", "Referral", "friend", "referred", "word of mouth"],
    "other": ["other", "Other"],
}
CLEAN_SPELLING_SHARE = 0.55   # the rest spread evenly over the other spellings

UNKNOWN_EVENT_TYPES = ["brochure_download", "Brochure Download", "spin_the_wheel", "holiday card sent"]
UNKNOWN_CHANNELS = ["carrier pigeon", "Billboard", "radio", "TV spot"]
UNPARSEABLE = ["not a date", "2024-13-45", "31/02/2025 25:61", "yesterday", "2025-02-30T10:00:00"]
UNPARSEABLE_US = ["not a date", "13/45/2024 10:00", "02/30/2025 09:15", "tomorrow am"]
OUT_OF_RANGE = ["1970-01-01T00:00:00Z", "2099-01-01T00:00:00Z", "1900-01-01", "1985-06-15T12:00:00Z"]
OUT_OF_RANGE_US = ["01/01/1970 08:00", "01/01/2099 09:00", "07/04/1900 10:30"]
MISSING_TOKENS = ["", "NULL", "N/A"]
REFERRAL_CHANNEL_SPELLINGS = ["referral", "Referral", "friend", "word of mouth", "referred"]

# survey comments: sentences per theme and tone (negative, mixed, positive)
THEMES = ["price", "financing", "salesperson", "vehicle", "delivery", "service_quality"]
COMMENT_TEMPLATES = {
    "price": (
        ["The price kept changing and the fees were a surprise.", "Felt overcharged, the price was way above online quotes.",
         "Too expensive for what we got, add-ons were pushed hard."],
        ["Price was fair but not the best we saw.", "The price was ok after some negotiation.",
         "Reasonable price, though the dealer fees were high."],
        ["Great price, they matched the online quote.", "Fair, transparent pricing with no hidden fees.",
         "Got a better price than at two other dealers."],
    ),
    "financing": (
        ["The financing paperwork took forever, we waited three hours.", "Finance office was slow and the rate changed at signing.",
         "Long wait for paperwork and financing approval."],
        ["Financing was fine but the paperwork wait was long.", "The loan approval took a while but worked out.",
         "Paperwork was slow, the financing rate was ok."],
        ["Financing was quick and the paperwork took twenty minutes.", "Great loan rate and a fast finance office.",
         "The lease paperwork was fast and clearly explained."],
    ),
    "salesperson": (
        ["The salesperson was pushy and did not listen.", "Our sales rep ignored our questions.",
         "Salesperson was rude and kept us waiting."],
        ["Salesperson was friendly but not very knowledgeable.", "The sales rep was ok, a bit slow to respond.",
         "Our salesperson was polite but we had to chase for answers."],
        ["Our salesperson was friendly, patient and knew the cars.", "Best sales rep we have dealt with, no pressure.",
         "The salesperson went above and beyond for us."],
    ),
    "vehicle": (
        ["The car had scratches at pickup.", "Vehicle was not cleaned and had a warning light on.",
         "The vehicle was not the trim we agreed on."],
        ["The vehicle is nice but the infotainment is confusing.", "Car is fine, a few features missing.",
         "We like the car, the ride is a bit stiff."],
        ["We love the new car.", "The vehicle was spotless and exactly as described.",
         "Amazing car, the test drive sold us."],
    ),
    "delivery": (
        ["Delivery was delayed twice.", "The car was not ready at the delivery time we were given.",
         "Delivery was rushed and nobody showed us the features."],
        ["Delivery was ok, a little late.", "The handover was fine but short.",
         "Delivery took longer than promised but went fine."],
        ["Delivery was on time and they walked us through every feature.", "Smooth delivery, the car was ready and waiting.",
         "Great delivery experience, even a bow on the car."],
    ),
    "service_quality": (
        ["The service department kept my car three days for an oil change.", "Service visit took far too long and the problem came back.",
         "Service advisor never called back."],
        ["Service was fine but the waiting room was crowded.", "Service was ok, took a bit longer than quoted.",
         "The repair was done, communication could be better."],
        ["Fast, friendly service and a free car wash.", "The service advisor explained everything clearly.",
         "Service was quick and done right the first time."],
    ),
}
SALES_THEME_WEIGHTS = [0.26, 0.20, 0.24, 0.18, 0.12, 0.0]
SERVICE_THEME_WEIGHTS = [0.22, 0.0, 0.0, 0.0, 0.0, 0.78]
MARKUP_SNIPPETS = ["<script>alert(1)</script>", "<b>Great</b> people!", "<i>never again</i>",
                   "<a href=\"http://example.com\">see my review</a>"]
