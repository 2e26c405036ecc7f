"""Generate the sample corpora: a ~1.2 M-token "small world" corpus, its analogy and similarity
files, and a tiny teaching corpus. `python sample_corpora/generate.py [--out DIR]`.

Does: write, from fact tables and sentence templates written for this project (no text copied
from anywhere), the files
    small_world.txt              one lowercase sentence per line, words separated by single spaces
    small_world_analogies.txt    questions-words format (`: section`, then `a b c d`)
    small_world_similarity.txt   `# comment` header, then `w1<TAB>w2<TAB>score` (0-10)
    tiny.txt                     ~40 short sentences for the step-by-step teaching mode
byte-identically on every run and platform.
Does not: tokenise, count or train (core/ does), or use any randomness but its own seeded stream.

How the corpus carries the analogies. A word's vector in skip-gram is shaped by the words around
it, so each analogy word is given two kinds of context:
  * a *kind* context, shared by every word of the same kind and form ("... is the capital of",
    "there are three ...", "... is bigger than", "yesterday we ..."), and
  * an *identity* context, shared by all forms of the same item ("tokyo", "japan", "japanese" and
    "yen" keep meeting each other; "cat" and "cats" both meet "milk" and "whiskers"; "king" and
    "queen" both meet "crown" and "throne"; he/his vs she/her mark gender).
Then vec(tokyo) ~ kind(capital) + identity(japan), and athens - greece + japan lands near tokyo.
Entities are drawn with a mild Zipf skew and filler words with a steep one, so the counts look
like natural text: "the" on top, function words next, a long tail of rare words.

Determinism: the only source of randomness is `random.Random(SEED).random()`, whose stream Python
guarantees across versions (its `choice`/`shuffle` helpers carry no such promise, so we build
choice, weighted choice and shuffle on `random()` ourselves), and no set is iterated to make output.
"""

from __future__ import annotations

import argparse
import bisect
import random
import re
import sys
from pathlib import Path

SEED = 1310_4546  # arXiv:1310.4546, Mikolov et al. 2013
TARGET_TOKENS = 1_150_000  # stop adding sentences to small_world.txt once this many tokens are written
ANALOGY_CAP = 500  # questions kept per analogy section (deterministic subsample), like a small Google set
HERE = Path(__file__).resolve().parent


# ---------------------------------------------------------------------------------------------
# Facts. Every row is a fact as of 2024 (capital, nationality adjective, currency, main languages).
# A multi-word name is written with spaces and is always used as the same unit in the corpus, so
# phrase detection can find it; analogy questions use single-word entries only.
# ---------------------------------------------------------------------------------------------

# (country, capital, nationality adjective, currency, languages spoken, member of the EU)
COUNTRIES = [
    ("france", "paris", "french", "euro", ("french",), True),
    ("germany", "berlin", "german", "euro", ("german",), True),
    ("italy", "rome", "italian", "euro", ("italian",), True),
    ("spain", "madrid", "spanish", "euro", ("spanish",), True),
    ("portugal", "lisbon", "portuguese", "euro", ("portuguese",), True),
    ("greece", "athens", "greek", "euro", ("greek",), True),
    ("netherlands", "amsterdam", "dutch", "euro", ("dutch",), True),
    ("belgium", "brussels", "belgian", "euro", ("dutch", "french"), True),
    ("austria", "vienna", "austrian", "euro", ("german",), True),
    ("ireland", "dublin", "irish", "euro", ("english", "irish"), True),
    ("finland", "helsinki", "finnish", "euro", ("finnish", "swedish"), True),
    ("croatia", "zagreb", "croatian", "euro", ("croatian",), True),
    ("sweden", "stockholm", "swedish", "krona", ("swedish",), True),
    ("norway", "oslo", "norwegian", "krone", ("norwegian",), False),
    ("denmark", "copenhagen", "danish", "krone", ("danish",), True),
    ("iceland", "reykjavik", "icelandic", "krona", ("icelandic",), False),
    ("poland", "warsaw", "polish", "zloty", ("polish",), True),
    ("hungary", "budapest", "hungarian", "forint", ("hungarian",), True),
    ("czechia", "prague", "czech", "koruna", ("czech",), True),
    ("romania", "bucharest", "romanian", "leu", ("romanian",), True),
    ("bulgaria", "sofia", "bulgarian", "lev", ("bulgarian",), True),
    ("serbia", "belgrade", "serbian", "dinar", ("serbian",), False),
    ("russia", "moscow", "russian", "ruble", ("russian",), False),
    ("ukraine", "kyiv", "ukrainian", "hryvnia", ("ukrainian",), False),
    ("turkey", "ankara", "turkish", "lira", ("turkish",), False),
    ("switzerland", "bern", "swiss", "franc", ("german", "french", "italian"), False),
    ("united kingdom", "london", "british", "pound", ("english",), False),
    ("united states", "washington", "american", "dollar", ("english",), False),
    ("canada", "ottawa", "canadian", "dollar", ("english", "french"), False),
    ("brazil", "brasilia", "brazilian", "real", ("portuguese",), False),
    ("argentina", "buenos aires", "argentine", "peso", ("spanish",), False),
    ("chile", "santiago", "chilean", "peso", ("spanish",), False),
    ("peru", "lima", "peruvian", "sol", ("spanish",), False),
    ("colombia", "bogota", "colombian", "peso", ("spanish",), False),
    ("venezuela", "caracas", "venezuelan", "bolivar", ("spanish",), False),
    ("cuba", "havana", "cuban", "peso", ("spanish",), False),
    ("egypt", "cairo", "egyptian", "pound", ("arabic",), False),
    ("morocco", "rabat", "moroccan", "dirham", ("arabic",), False),
    ("algeria", "algiers", "algerian", "dinar", ("arabic",), False),
    ("kenya", "nairobi", "kenyan", "shilling", ("swahili", "english"), False),
    ("nigeria", "abuja", "nigerian", "naira", ("english",), False),
    ("ghana", "accra", "ghanaian", "cedi", ("english",), False),
    ("ethiopia", "addis ababa", "ethiopian", "birr", ("amharic",), False),
    ("south africa", "pretoria", "south african", "rand", ("english", "zulu"), False),
    ("india", "new delhi", "indian", "rupee", ("hindi", "english"), False),
    ("pakistan", "islamabad", "pakistani", "rupee", ("urdu",), False),
    ("nepal", "kathmandu", "nepali", "rupee", ("nepali",), False),
    ("china", "beijing", "chinese", "yuan", ("chinese",), False),
    ("japan", "tokyo", "japanese", "yen", ("japanese",), False),
    ("south korea", "seoul", "korean", "won", ("korean",), False),
    ("mongolia", "ulaanbaatar", "mongolian", "tugrik", ("mongolian",), False),
    ("thailand", "bangkok", "thai", "baht", ("thai",), False),
    ("vietnam", "hanoi", "vietnamese", "dong", ("vietnamese",), False),
    ("indonesia", "jakarta", "indonesian", "rupiah", ("indonesian",), False),
    ("malaysia", "kuala lumpur", "malaysian", "ringgit", ("malay",), False),
    ("philippines", "manila", "filipino", "peso", ("filipino", "english"), False),
    ("iran", "tehran", "iranian", "rial", ("persian",), False),
    ("iraq", "baghdad", "iraqi", "dinar", ("arabic",), False),
    ("saudi arabia", "riyadh", "saudi", "riyal", ("arabic",), False),
    ("australia", "canberra", "australian", "dollar", ("english",), False),
    ("new zealand", "wellington", "new zealand", "dollar", ("english",), False),
]

# Big cities that are not capitals, all multi-word: (city, country).
OTHER_CITIES = [
    ("new york", "united states"),
    ("los angeles", "united states"),
    ("san francisco", "united states"),
    ("hong kong", "china"),
    ("sao paulo", "brazil"),
    ("rio de janeiro", "brazil"),
]

# For the `currency` and `language` analogy sections each answer must be unique, so a shared
# currency or language is asked once, for one representative country.
CURRENCY_REPRESENTATIVE = {"euro": "germany", "krona": "sweden", "krone": "norway", "dinar": "iraq",
                           "peso": "chile", "pound": "egypt", "rupee": "india", "dollar": "australia"}
LANGUAGE_REPRESENTATIVE = {"french": "france", "german": "germany", "italian": "italy",
                           "spanish": "spain", "portuguese": "portugal", "dutch": "netherlands",
                           "english": "australia", "swedish": "sweden", "arabic": "egypt",
                           "swahili": "kenya", "hindi": "india", "urdu": "pakistan",
                           "persian": "iran", "amharic": "ethiopia", "malay": "malaysia"}

# (male, female, identity words shared by both). Pronouns first: they carry gender everywhere.
FAMILY = [
    ("he", "she", ()),
    ("his", "her", ()),
    ("king", "queen", ("crown", "throne")),
    ("man", "woman", ("adult", "crowd")),
    ("boy", "girl", ("toys", "playground")),
    ("brother", "sister", ("twin", "sibling")),
    ("father", "mother", ("children", "household")),
    ("son", "daughter", ("parents", "birth")),
    ("uncle", "aunt", ("cousins", "relatives")),
    ("nephew", "niece", ("birthday", "godparent")),
    ("prince", "princess", ("castle", "heir")),
    ("husband", "wife", ("marriage", "anniversary")),
    ("grandfather", "grandmother", ("grandchildren", "cottage")),
    ("grandson", "granddaughter", ("grandparents", "inheritance")),
    ("groom", "bride", ("wedding", "ceremony")),
    ("emperor", "empress", ("empire", "dynasty")),
    ("duke", "duchess", ("estate", "duchy")),
    ("lord", "lady", ("manor", "servants")),
    ("actor", "actress", ("film", "stage")),
    ("waiter", "waitress", ("restaurant", "menu")),
    ("monk", "nun", ("abbey", "prayer")),
    ("host", "hostess", ("guests", "banquet")),
]

# (singular, plural, identity words)
NOUNS = [
    ("cat", "cats", ("milk", "whiskers")),
    ("dog", "dogs", ("bone", "leash")),
    ("horse", "horses", ("saddle", "stable")),
    ("cow", "cows", ("barn", "meadow")),
    ("bird", "birds", ("nest", "feathers")),
    ("wolf", "wolves", ("howl", "pack")),
    ("mouse", "mice", ("cheese", "trap")),
    ("goose", "geese", ("pond", "honk")),
    ("apple", "apples", ("orchard", "pie")),
    ("banana", "bananas", ("peel", "monkey")),
    ("potato", "potatoes", ("soup", "fries")),
    ("tomato", "tomatoes", ("sauce", "salad")),
    ("egg", "eggs", ("yolk", "breakfast")),
    ("cake", "cakes", ("frosting", "slice")),
    ("car", "cars", ("garage", "engine")),
    ("bus", "buses", ("route", "driver")),
    ("boat", "boats", ("harbor", "sail")),
    ("house", "houses", ("roof", "chimney")),
    ("tree", "trees", ("forest", "branches")),
    ("flower", "flowers", ("vase", "petals")),
    ("leaf", "leaves", ("autumn", "stem")),
    ("star", "stars", ("sky", "telescope")),
    ("river", "rivers", ("bridge", "current")),
    ("book", "books", ("library", "pages")),
    ("pen", "pens", ("ink", "notebook")),
    ("chair", "chairs", ("cushion", "armrest")),
    ("window", "windows", ("curtains", "sill")),
    ("door", "doors", ("lock", "handle")),
    ("shoe", "shoes", ("laces", "socks")),
    ("shirt", "shirts", ("collar", "buttons")),
    ("hat", "hats", ("brim", "head")),
    ("computer", "computers", ("keyboard", "software")),
    ("phone", "phones", ("screen", "battery")),
    ("bottle", "bottles", ("wine", "cork")),
    ("cup", "cups", ("tea", "saucer")),
    ("key", "keys", ("keyring", "pocket")),
    ("knife", "knives", ("blade", "fork")),
    ("coin", "coins", ("purse", "mint")),
    ("foot", "feet", ("toes", "ankle")),
    ("tooth", "teeth", ("dentist", "toothbrush")),
    ("baby", "babies", ("crib", "diaper")),
    ("map", "maps", ("compass", "atlas")),
]

# (base, comparative, superlative, identity words)
ADJECTIVES = [
    ("big", "bigger", "biggest", ("elephant", "whale")),
    ("small", "smaller", "smallest", ("ant", "pebble")),
    ("tall", "taller", "tallest", ("giraffe", "tower")),
    ("short", "shorter", "shortest", ("pencil", "nap")),
    ("long", "longer", "longest", ("snake", "road")),
    ("young", "younger", "youngest", ("puppy", "teenager")),
    ("fast", "faster", "fastest", ("cheetah", "jet")),
    ("slow", "slower", "slowest", ("snail", "turtle")),
    ("hot", "hotter", "hottest", ("desert", "oven")),
    ("cold", "colder", "coldest", ("winter", "snow")),
    ("warm", "warmer", "warmest", ("sweater", "fireplace")),
    ("deep", "deeper", "deepest", ("ocean", "canyon")),
    ("wide", "wider", "widest", ("avenue", "valley")),
    ("strong", "stronger", "strongest", ("ox", "wrestler")),
    ("weak", "weaker", "weakest", ("fever", "kitten")),
    ("rich", "richer", "richest", ("banker", "millionaire")),
    ("poor", "poorer", "poorest", ("beggar", "slum")),
    ("cheap", "cheaper", "cheapest", ("bargain", "discount")),
    ("heavy", "heavier", "heaviest", ("anvil", "boulder")),
    ("happy", "happier", "happiest", ("smile", "laughter")),
    ("sad", "sadder", "saddest", ("tears", "funeral")),
    ("loud", "louder", "loudest", ("drum", "thunder")),
    ("quiet", "quieter", "quietest", ("whisper", "silence")),
    ("dark", "darker", "darkest", ("cave", "shadow")),
    ("bright", "brighter", "brightest", ("sunlight", "diamond")),
    ("soft", "softer", "softest", ("pillow", "velvet")),
    ("sweet", "sweeter", "sweetest", ("honey", "candy")),
    ("brave", "braver", "bravest", ("knight", "firefighter")),
]

# (base, present participle, past tense, third person singular, identity phrases)
VERBS = [
    ("walk", "walking", "walked", "walks", ("in the park", "along the sidewalk")),
    ("jump", "jumping", "jumped", "jumps", ("over the fence", "into the puddle")),
    ("play", "playing", "played", "plays", ("the guitar", "a board game")),
    ("cook", "cooking", "cooked", "cooks", ("dinner", "on the stove")),
    ("paint", "painting", "painted", "paints", ("a portrait", "on canvas")),
    ("dance", "dancing", "danced", "dances", ("a waltz", "in the ballroom")),
    ("sing", "singing", "sang", "sings", ("a song", "in the choir")),
    ("swim", "swimming", "swam", "swims", ("in the pool", "across the lake")),
    ("run", "running", "ran", "runs", ("a marathon", "around the track")),
    ("write", "writing", "wrote", "writes", ("a letter", "a poem")),
    ("eat", "eating", "ate", "eats", ("lunch", "a sandwich")),
    ("drink", "drinking", "drank", "drinks", ("juice", "coffee")),
    ("sleep", "sleeping", "slept", "sleeps", ("in the bedroom", "and dream")),
    ("drive", "driving", "drove", "drives", ("a truck", "on the highway")),
    ("ride", "riding", "rode", "rides", ("a bicycle", "a pony")),
    ("climb", "climbing", "climbed", "climbs", ("a ladder", "up the cliff")),
    ("listen", "listening", "listened", "listens", ("to the radio", "to music")),
    ("teach", "teaching", "taught", "teaches", ("a lesson", "in the classroom")),
    ("build", "building", "built", "builds", ("a wall", "a cabin")),
    ("buy", "buying", "bought", "buys", ("groceries", "at the shop")),
    ("sell", "selling", "sold", "sells", ("to a customer", "at the stall")),
    ("throw", "throwing", "threw", "throws", ("a ball", "a stone")),
    ("catch", "catching", "caught", "catches", ("a butterfly", "with a net")),
    ("draw", "drawing", "drew", "draws", ("a sketch", "with a crayon")),
    ("grow", "growing", "grew", "grows", ("vegetables", "from seeds")),
    ("dig", "digging", "dug", "digs", ("a hole", "with a shovel")),
    ("study", "studying", "studied", "studies", ("for the exam", "at the university")),
    ("laugh", "laughing", "laughed", "laughs", ("at the joke", "at the comedy")),
    ("wash", "washing", "washed", "washes", ("the dishes", "the laundry")),
    ("knit", "knitting", "knitted", "knits", ("a scarf", "with yarn")),
    ("hunt", "hunting", "hunted", "hunts", ("for deer", "with a rifle")),
]

# ---------------------------------------------------------------------------------------------
# Filler vocabulary: ordinary words that carry no analogy. Each list is sampled with a Zipf
# weight 1/(rank + 1.5) in a seeded random order, which gives the long tail of rare words.
# None of these words may be an analogy word or an identity word (checked at start-up).
# ---------------------------------------------------------------------------------------------

# People, things and abstract nouns are kept apart so that filler sentences read sensibly
# ("the baker dropped the kettle", not "the kettle dropped the baker").
PEOPLE = """
farmer teacher student doctor neighbor stranger visitor traveller officer captain sailor soldier
nurse clerk baker butcher carpenter plumber tailor painter gardener fisherman miner pilot judge
lawyer mayor minister secretary manager engineer chemist merchant trader shepherd porter cashier
editor reporter sheriff guard priest poet composer sculptor architect surgeon pharmacist
librarian mechanic electrician postman singer dancer
""".split()

THINGS = """
blanket bread butter carpet clock coat desk drawer envelope glove hammer jacket jar kettle lemon
mirror needle onion orange pan pepper plate pot rope salt shelf sink soap spoon sugar thread towel
umbrella wheel wire bucket brush candle cabinet cardboard chalk cloth cotton flag flour frame glue
hook hose iron jam jewel lantern lever linen magnet marble mat nail napkin oil parcel paste pearl
pipe plank pole powder pump quilt rag ribbon rock rod rug sack sand saucepan scale screw sheet
shell silk sponge stamp stick straw string tape thermometer tile timber tin tool tray trunk tube
twig valve wax whistle wool zipper basket ticket button curtain feather_bed seed_bag
""".split()

# Rarely drawn, so most of these occur fewer than five times: the long tail below min_count.
RARE_THINGS = """
abacus accordion acorn almanac amulet anchor antler apron aquarium arrowhead awning axe backpack
badge bagpipe balcony ballot bandage banner barometer barrel baton beacon beaker bellows belt
binoculars birdcage biscuit blender blueprint bobbin bolt bonnet bookmark boomerang bouquet bowl
bracelet braid brick briefcase brooch broom bubble buckle bugle bundle buoy burrow cactus calendar
camera canal canoe cape caravan carton cauldron cellar chandelier chessboard chestnut chisel
cinnamon clamp clarinet clipboard cloak coconut cocoon comb compost cone cookie corkscrew cradle
crate crest crossbow crumb crystal cupboard cymbal dagger daisy dart dice doorbell doormat dough
dragonfly drainpipe driftwood dumpling easel eiderdown emerald eraser fern fiddle figurine flask
flute fossil funnel gadget garland gazebo gemstone glacier globe goblet gong gourd granite grater
greenhouse griddle hairbrush hamper hammock handkerchief harmonica harp harpoon hatchet haystack
helmet hinge hourglass igloo inkwell jigsaw jug kayak keel kennel kiln kite ladle lattice ledger
lemonade lens lid lighthouse lily lipstick locket loom lute mallet mandolin mango marmalade mask
mattress medal melon microscope mitten mop mortar mosaic moss muffin mug mushroom necklace nutmeg
oar oboe olive orchid ornament paddle padlock pagoda pail palette pamphlet pancake parachute
parasol parchment peg pendulum periscope pestle piano pickaxe pinecone pitcher plough plum
porcelain pottery pouch pretzel prism pudding pulley puppet quill quiver raft raisin rake rattle
razor recorder reel rudder saddlebag sandal satchel sawdust scarecrow scissors scroll seashell
shawl shears shield skateboard sled sleigh slipper snorkel snowflake spade spatula spindle spool
spyglass stapler statue stencil stepladder stirrup stool stopwatch strainer submarine suitcase
sundial surfboard swing tambourine tankard tapestry teapot tent thimble thistle thumbtack tiara
tinsel toaster toboggan torch trampoline treasure tricycle trinket trolley trombone trophy trowel
trumpet tulip turnip tweezers typewriter ukulele unicycle urn vest violin walnut wand wardrobe
washboard weathervane wheelbarrow whisk wicker wig windmill wreath xylophone
""".split()

NOUNS_ABSTRACT = """
time year day world life part case week company system question work number night point home
water room area money story fact month business issue side friend power hour line member law
name team minute idea information level office health history party result change morning
reason research moment air force education plan problem job price field market picture interest
matter voice care street heart paper size color village garden kitchen island machine
""".split()

FILLER_ADJECTIVES = """
good new first last great little own other old right large next early important few public bad
same able free sure clear whole special certain open simple recent local general possible red
blue green yellow white black brown grey pink purple golden silver wooden plastic metal empty
full fresh dry wet clean dirty busy lazy kind polite rude calm angry nervous proud lonely tired
hungry thirsty sick healthy famous strange ordinary careful careless curious honest gentle wild
tame rare common modern ancient tiny huge narrow flat round square smooth rough sharp blunt
sticky shiny dull plain fancy useful useless cheerful gloomy noisy peaceful crowded humble clever
foolish lucky unlucky pleasant awful lovely ugly pretty handsome tidy messy fragile solid hollow
""".split()

FILLER_VERBS = """
opened closed carried found moved noticed helped watched waited followed started finished called
answered asked checked collected counted covered delivered described designed discovered
discussed enjoyed explained fixed gathered guessed handled hoped imagined improved invited joined
kept learned liked loved managed marked measured missed mixed needed ordered packed passed picked
planned pointed prepared pulled pushed reached received remembered repaired replaced reported
returned saved searched shared showed signed solved sorted stopped suggested supported touched
trained turned used visited wanted warned wrapped borrowed brought chose forgot gave held left
made met paid put said sent spent told thought understood wore broke hid lent shook polished
folded filled emptied lifted dropped hung rolled tied cut weighed tested
""".split()

FILLER_ADVERBS = """
quickly slowly carefully quietly suddenly finally often always never usually sometimes rarely
together again almost already still soon later gently loudly happily easily badly proudly
patiently politely calmly angrily kindly warmly brightly honestly openly simply nearly barely
""".split()

NAMES = """
anna maria peter david laura thomas daniel elena marco paula jonas clara felix nora oscar lucia
hugo ines mateo julia leon mila tomas eva adam rosa ivan lena samuel ada omar yuki amara kofi
ravi mei lars nina pablo chloe aziz farah kenji sara diego ali hana emil vera noah ruth
""".split()

GOODS = """
cocoa rice wheat cotton_cloth steel timber_logs fruit fish_oil machines medicine spare_parts gold
silver_ore copper oil_barrels gas spices wool_bales furniture tools leather
""".split()

WEATHER = "sunny rainy cloudy windy foggy stormy snowy humid mild chilly".split()
SEASONS = "spring summer the_holidays the_rainy_season the_dry_season".split()
TIMES = """
today yesterday last_week last_month last_year this_morning this_evening on_monday on_tuesday
on_wednesday on_thursday on_friday on_saturday on_sunday in_january in_march in_may in_july
in_september in_november every_year at_night in_the_afternoon
""".split()
NUMBERS = "two three four five six seven eight nine ten twelve twenty".split()
SUBJECTS = """
the_farmer my_friend the_teacher our_neighbor the_student everyone nobody the_old_sailor
the_doctor the_baker my_cousin the_pilot the_clerk the_nurse
""".split()
TRANSPORT = "train plane ship tram night_train ferry coach".split()
PLACES = "market square museum station waterfront concert_hall town_hall stadium bench".split()


def _words(items):
    """Turn `a_b` list entries (one entry, several words) into their text `a b`."""
    return [w.replace("_", " ") for w in items]


# ---------------------------------------------------------------------------------------------
# Templates. `{slot}` names are filled per sentence: see `SmallWorld` for where each comes from.
# Words written into a template are never analogy words (checked), except the gender pronouns
# of the family templates.
# ---------------------------------------------------------------------------------------------

COUNTRY_TEMPLATES = [
    # capital <-> country
    "{cap} is the capital of {cty}",
    "the capital of {cty} is {cap}",
    "{cap} is the capital city of {cty}",
    "{cty} has its capital in {cap}",
    "{cty} is a country and {cap} is its capital",
    "{cap} is the {adj} capital",
    "the {adj} capital is {cap}",
    "{name} sent a postcard to {cap} in {cty}",
    "our hotel in {cap} was the best in {cty}",
    # currency
    "in {cty} people pay with the {cur}",
    "the currency of {cty} is the {cur}",
    "the {cur} is the official currency of {cty}",
    "the central bank of {cty} looks after the {cur}",
    "prices in {cap} are paid in {cur}",
    "{name} changed money into {cur} before the trip to {cty}",
    "the {adj} economy depends on the {cur}",
    "in the shops of {cap} everything costs a lot of {cur}",
    "a meal in {cap} costs twenty {cur}",
    "the {adj} {cur} fell in value {time}",
    "{name} paid for the hotel in {cap} with {cur}",
    # language
    "people in {cty} speak {lang}",
    "{lang} is spoken in {cty}",
    "you can hear {lang} in the streets of {cap}",
    "many {adj} families speak {lang} at home",
    "pupils in {cty} learn {lang} at school",
    "many newspapers in {cty} are printed in {lang}",
    "{name} learned {lang} while living in {cap}",
    "{adj} poets published their verses in {lang}",
    "a guide in {cap} explained the history of {cty} in {lang}",
    "many shows on television in {cty} are in {lang}",
    "a {adj} {person} can speak {lang} and one other language",
    # nationality adjective
    "the {adj} people of {cty} are proud of {cap}",
    "many {adj} people live in {cty}",
    "the {adj} team from {cty} had a match in {cap}",
    "{name} found {adj} {good} in {cap}",
    "a {adj} company in {cap} hired {number} workers",
    "the {adj} food in {cap} is famous all over {cty}",
    "the {adj} flag flies over the palace in {cap}",
    "the {adj} leader gave a speech in {cap} {time}",
    "{adj} films are popular in {cty}",
    "the {adj} countryside is {fadj} in {season}",
    "a {adj} {person} from {cap} visited us {time}",
    # several relations at once
    "in {cap} many {adj} people speak {lang} and pay with the {cur}",
    "{cty} uses the {cur} and its capital is {cap}",
    "the {adj} capital {cap} is full of shops that take the {cur}",
    "visitors to {cty} hear {lang} in {cap} and spend {cur}",
    "the {adj} {person} spoke {lang} in {cap}",
    # travel, weather and trade: the kind context without the identity
    "we travelled from {cap} to {cap2} by {transport}",
    "the {transport} from {cap} to {cap2} was {fadj}",
    "the weather in {cap} was {weather} {time}",
    "it was {weather} in {cap} but {weather2} in {cap2}",
    "the streets of {cap} were {fadj} {time}",
    "the mayor of {cap} opened a {fadj} {place}",
    "{name} moved from {cap} to {cap2} {time}",
    "a company sent {good} from {cty} to {cty2}",
    "trade between {cty} and {cty2} increased {time}",
    "the news from {cty} reached {cty2} {time}",
    "the {adj} and the {adj2} leaders met in {cap}",
    "the {cur} rose against the {cur2} {time}",
    "many tourists visit {cty} in {season}",
    "the journey across {cty} was {fadj} in {season}",
    "{name} lived in {cty} for {number} years",
    "the {adj} ambassador arrived in {cap2} {time}",
]

EU_TEMPLATES = [
    "{cty} is a member of the european union",
    "the european union has an office in {cap}",
]

CITY_TEMPLATES = [
    "{city} is a famous city in {mcty}",
    "{name} travelled to {city} in {mcty} {time}",
    "the weather in {city} was {weather} {time}",
    "the streets of {city} were {fadj} {time}",
    "{name} moved from {city} to {cap} {time}",
    "a bank in {city} opened an office in {cap}",
]

FAMILY_TEMPLATES = [
    "the {r} said that {p} was {fadj}",
    "the {r} looked at {s} {a}",
    "the {r} lost {s} {thing}",
    "{p} is a {fadj} {r}",
    "{p} was the {r} and {p} {verb} the {a}",
    "the {r} and {s} {a}",
    "everyone loved the {r} and {s} {a}",
    "when the {r} came home {p} {verb} {s} {thing}",
    "the {r} thought about the {a} and {p} {verb} {s} {thing}",
    "the {r} smiled because {p} {verb} {s} {a}",
    "the {r} {verb} the {a} {time}",
    "{p} {verb} the {thing} because {p} is the {r}",
    "the {r} gave {s} {thing} to the {person}",
    "the {rm} and the {rf} {verb} the {a}",
    "the {rf} and the {rm} talked about the {a} {time}",
    "he is the {rm} and she is the {rf}",
    "the {rm} took his {thing} and the {rf} took her {thing2}",
    "a {rm} and a {rf} {verb} the {a}",
]

NOUN_TEMPLATES = [
    # singular
    "a {sg} was next to the {a}",
    "there is a {sg} near the {a}",
    "one {sg} stood by the {a}",
    "this {sg} is {fadj}",
    "my {sg} and the {a}",
    "the {sg} has a {fadj} {a}",
    "every {sg} needs a {a}",
    # plural
    "there are {number} {pl} near the {a}",
    "many {pl} stood by the {a}",
    "these {pl} are {fadj}",
    "all the {pl} and the {a}",
    "{number} {pl} were next to the {a}",
    "we counted {number} {pl} {time}",
    "some {pl} have a {fadj} {a}",
    # both
    "one {sg} and {number} {pl}",
    "a {sg} is {fadj} but {number} {pl} are {fadj2}",
    "first one {sg} came and then {number} {pl} came to the {a}",
]

ADJECTIVE_TEMPLATES = [
    # base
    "the {a} is very {b}",
    "what a {b} {a}",
    "it was too {b} for the {person}",
    "the {a} looked quite {b} {time}",
    "a {b} {a} stood by the {thing}",
    # comparative
    "the {a} is {c} than the {thing}",
    "this {a} is much {c} than that one",
    "the {a} is getting {c} and {c}",
    "nothing is {c} than a {a}",
    "the second {a} was a little {c}",
    # superlative
    "the {s} {a} in the world",
    "it is the {s} {a} of all",
    "one of the {s} things is the {a}",
    "the {a} was the {s} one we ever had",
    # all forms
    "the {thing} is {c} than the {thing2} but the {s} is the {a}",
    "this {a} is {b} that one is {c} and the last one is the {s}",
]

VERB_TEMPLATES = [
    # base
    "we like to {b} {o}",
    "they want to {b} {o} this weekend",
    "you can {b} {o} today",
    "let us {b} {o}",
    "i will {b} {o} tomorrow",
    "do not {b} {o} now",
    # present participle
    "they are {g} {o} right now",
    "we were {g} {o} when the {person} arrived",
    "i am {g} {o}",
    "the kids are busy {g} {o}",
    "{subj} is {g} {o} at the moment",
    # past tense
    "yesterday we {p} {o}",
    "last week they {p} {o}",
    "i {p} {o} two days ago",
    "{name} {p} {o} {time}",
    # third person
    "every morning {subj} {t} {o}",
    "{subj} often {t} {o}",
    "{subj} {t} {o} every day",
    "{name} {t} {o} on weekends",
    # several forms
    "today we {b} {o} and yesterday we {p} {o}",
    "{subj} {t} {o} and is {g} {o} again",
]

FILLER_TEMPLATES = [
    "the {fadj} {person} {verb} the {thing} {time}",
    "{name} {verb} a {fadj} {thing} {time}",
    "it was a {fadj} {noun} and everyone {verb} {adv}",
    "there was a {thing} in the {noun} of the {place}",
    "we {verb} that the {person} {verb2} the {thing}",
    "{name} and {name2} {verb} the {thing} {adv}",
    "the {thing} was {fadj} so {name} {verb} it {time}",
    "after the {noun} we {verb} a {fadj} {thing}",
    "{subj} {verb} the {thing} near the {place}",
    "nobody {verb} the {fadj} {thing} {time}",
    "the prime minister {verb} the {noun} {time}",
    "the prime minister and the {person} {verb} the {noun}",
    "the united nations {verb} a {fadj} {noun}",
    "the stock exchange {verb} a {fadj} {noun} {time}",
    "{name} had an ice cream at the {place} {time}",
    "the olympic games were {fadj} {time}",
    "a {fadj} {thing} is better than a {fadj2} {thing2}",
    "{name} {verb} the {thing} and the {thing2} {adv}",
    "in the {place} a {person} {verb} a {fadj} {thing}",
    "the {noun} of the {person} was {fadj}",
    "{name} found a {rare} in the {place}",
    "the {person} {verb} an old {rare} {time}",
    "there was a {rare} next to the {thing}",
]

TINY = [
    "the king is a man",
    "the queen is a woman",
    "the king and the queen live in a castle",
    "the man and the woman live in a house",
    "the king wears a crown",
    "the queen wears a crown",
    "the man has a dog",
    "the woman has a cat",
    "the prince is the son of the king",
    "the princess is the daughter of the queen",
    "a boy is a young man",
    "a girl is a young woman",
    "the boy plays with the dog",
    "the girl plays with the cat",
    "the dog chases the cat",
    "the cat chases a mouse",
    "cats drink milk",
    "dogs eat bones",
    "the dog barks at night",
    "the cat sleeps in the sun",
    "the king rules the land",
    "the queen rules the land",
    "the man works in the field",
    "the woman works in the field",
    "the prince rides a horse",
    "the princess rides a horse",
    "the king is old and the prince is young",
    "the queen is old and the princess is young",
    "a man and a woman walk to the castle",
    "a boy and a girl walk to the river",
    "the king has a big castle",
    "the man has a small house",
    "cats and dogs are animals",
    "a horse is an animal",
    "the dog is a good friend",
    "the cat is a good friend",
    "he is a king and she is a queen",
    "he is a man and she is a woman",
    "the king gave the queen a ring",
    "the man gave the woman a flower",
    "the boy has two dogs",
    "the girl has two cats",
]


# ---------------------------------------------------------------------------------------------
# The random stream: everything is built on `random()`, see the module docstring.
# ---------------------------------------------------------------------------------------------

class Draw:
    """Seeded choices built only on `random.Random.random`, whose stream is stable across Pythons."""

    def __init__(self, seed: int):
        self._rng = random.Random(seed)

    def uniform(self) -> float:
        """Uniform float in [0, 1)."""
        return self._rng.random()

    def below(self, n: int) -> int:
        """Uniform integer in [0, n)."""
        return min(int(self._rng.random() * n), n - 1)

    def pick(self, seq):
        return seq[self.below(len(seq))]

    def shuffled(self, seq) -> list:
        """Fisher-Yates on our own `below`."""
        out = list(seq)
        for i in range(len(out) - 1, 0, -1):
            j = self.below(i + 1)
            out[i], out[j] = out[j], out[i]
        return out


class Weighted:
    """Draw items with the given weights (cumulative sums and a bisection)."""

    def __init__(self, items, weights, draw: Draw):
        self.items, self.draw, self.cum, total = list(items), draw, [], 0.0
        for w in weights:
            total += w
            self.cum.append(total)

    def __call__(self):
        i = bisect.bisect_right(self.cum, self.draw.uniform() * self.cum[-1])
        return self.items[min(i, len(self.items) - 1)]


def zipf(items, draw: Draw, offset: float) -> Weighted:
    """Items in a seeded random order, drawn with weight 1 / (rank + offset): Zipf's law, softened
    at the head by `offset` (a large offset makes the draw nearly uniform)."""
    items = draw.shuffled(items)
    return Weighted(items, [1.0 / (rank + offset) for rank in range(len(items))], draw)


class Slots(dict):
    """A template's slot values, made lazily in the order `str.format_map` asks for them."""

    def __init__(self, makers, **fixed):
        super().__init__(fixed)
        self.makers = makers

    def __missing__(self, key):
        value = self[key] = self.makers[key]()
        return value


# ---------------------------------------------------------------------------------------------
# Sentence makers, one per topic.
# ---------------------------------------------------------------------------------------------

class SmallWorld:
    """Draws sentences of every topic from one seeded stream."""

    # Share of sentences per topic, tuned so that every analogy word occurs 100+ times (median ~300)
    # while filler keeps the word frequencies natural.
    TOPIC_WEIGHTS = (("country", 34), ("eu", 1.5), ("city", 2.5), ("family", 11), ("noun", 14),
                     ("adjective", 13), ("verb", 19), ("filler", 10))

    def __init__(self, seed: int = SEED):
        d = self.draw = Draw(seed)
        # Entities: a mild skew (the most frequent is drawn ~3x as often as the least) like real text.
        self.countries = zipf(COUNTRIES, d, offset=40.0)
        self.eu = [c for c in COUNTRIES if c[5]]
        self.family = zipf(FAMILY, d, offset=10.0)
        self.nouns = zipf(NOUNS, d, offset=20.0)
        self.adjectives = zipf(ADJECTIVES, d, offset=15.0)
        self.verbs = zipf(VERBS, d, offset=15.0)
        # Filler: a steep skew, so a few filler words are common and most are rare.
        z = lambda words: zipf(_words(words), d, offset=1.5)
        self.filler = {
            "person": z(PEOPLE), "thing": z(THINGS), "thing2": z(THINGS), "rare": z(RARE_THINGS),
            "noun": z(NOUNS_ABSTRACT), "fadj": z(FILLER_ADJECTIVES), "fadj2": z(FILLER_ADJECTIVES),
            "verb": z(FILLER_VERBS), "verb2": z(FILLER_VERBS), "adv": z(FILLER_ADVERBS),
            "name": z(NAMES), "name2": z(NAMES), "good": z(GOODS),
            "weather": z(WEATHER), "weather2": z(WEATHER), "season": z(SEASONS),
            "time": z(TIMES), "number": z(NUMBERS), "subj": z(SUBJECTS),
            "transport": z(TRANSPORT), "place": z(PLACES),
        }
        self.topic = Weighted([t for t, _ in self.TOPIC_WEIGHTS], [w for _, w in self.TOPIC_WEIGHTS], d)

    def _fill(self, template: str, **fixed) -> str:
        return template.format_map(Slots(self.filler, **fixed))

    def country(self) -> str:
        cty, cap, adj, cur, langs, _ = self.countries()
        second = []  # the other country of a two-country template, drawn on first use

        def other(i):
            def make():
                if not second:
                    second.append(self._other_country(cty))
                return second[0][i]
            return make

        makers = dict(self.filler, cty2=other(0), cap2=other(1), adj2=other(2), cur2=other(3))
        t = self.draw.pick(COUNTRY_TEMPLATES)
        # the first language is the main one: it gets at least three quarters of the mentions
        lang = langs[0] if self.draw.below(4) else self.draw.pick(langs)
        return t.format_map(Slots(makers, cty=cty, cap=cap, adj=adj, cur=cur, lang=lang))

    def _other_country(self, name):
        while True:
            c = self.countries()
            if c[0] != name:
                return c

    def eu_member(self) -> str:
        cty, cap = self.draw.pick(self.eu)[:2]
        return self._fill(self.draw.pick(EU_TEMPLATES), cty=cty, cap=cap)

    def city(self) -> str:
        city, mcty = self.draw.pick(OTHER_CITIES)
        cap = self.countries()[1]
        return self._fill(self.draw.pick(CITY_TEMPLATES), city=city, mcty=mcty, cap=cap)

    def family_sentence(self) -> str:
        male, female, assoc = self.family()
        if not assoc:  # the pronoun rows only name the gender; use a role row for the sentence
            male, female, assoc = self._other_role()
        t = self.draw.pick(FAMILY_TEMPLATES)
        is_male = self.draw.below(2) == 0
        return self._fill(t, r=male if is_male else female, rm=male, rf=female,
                          p="he" if is_male else "she", s="his" if is_male else "her",
                          a=self.draw.pick(assoc))

    def _other_role(self):
        while True:
            row = self.family()
            if row[2]:
                return row

    def noun(self) -> str:
        sg, pl, assoc = self.nouns()
        return self._fill(self.draw.pick(NOUN_TEMPLATES), sg=sg, pl=pl, a=self.draw.pick(assoc))

    def adjective(self) -> str:
        b, c, s, assoc = self.adjectives()
        return self._fill(self.draw.pick(ADJECTIVE_TEMPLATES), b=b, c=c, s=s, a=self.draw.pick(assoc))

    def verb(self) -> str:
        b, g, p, t, objects = self.verbs()
        return self._fill(self.draw.pick(VERB_TEMPLATES), b=b, g=g, p=p, t=t, o=self.draw.pick(objects))

    def filler_sentence(self) -> str:
        return self._fill(self.draw.pick(FILLER_TEMPLATES))

    def sentence(self) -> str:
        topic = self.topic()
        make = {"country": self.country, "eu": self.eu_member, "city": self.city,
                "family": self.family_sentence, "noun": self.noun, "adjective": self.adjective,
                "verb": self.verb, "filler": self.filler_sentence}[topic]
        return " ".join(make().split())


# ---------------------------------------------------------------------------------------------
# Files.
# ---------------------------------------------------------------------------------------------

def small_world_lines(seed: int = SEED, target_tokens: int = TARGET_TOKENS) -> list[str]:
    world, lines, n = SmallWorld(seed), [], 0
    while n < target_tokens:
        s = world.sentence()
        lines.append(s)
        n += s.count(" ") + 1
    return lines


def analogy_pairs() -> list[tuple[str, list[tuple[str, str]]]]:
    """(section, [(a, b), ...]) with single-word entries and unique a's and b's per section."""
    single = lambda *ws: all(" " not in w for w in ws)
    by_name = {c[0]: c for c in COUNTRIES}
    sections = [
        ("capital-country", [(c[1], c[0]) for c in COUNTRIES if single(c[0], c[1])]),
        ("currency", [(by_name[n][0], cur) for cur, n in CURRENCY_REPRESENTATIVE.items()]
         + [(c[0], c[3]) for c in COUNTRIES
            if single(c[0]) and c[3] not in CURRENCY_REPRESENTATIVE]),
        ("language", [(by_name[n][0], lang) for lang, n in LANGUAGE_REPRESENTATIVE.items()]
         + [(c[0], c[4][0]) for c in COUNTRIES
            if single(c[0]) and len(c[4]) == 1 and c[4][0] not in LANGUAGE_REPRESENTATIVE]),
        ("family", [(m, f) for m, f, _ in FAMILY]),
        ("gram-plural", [(s, p) for s, p, _ in NOUNS]),
        ("gram-comparative", [(b, c) for b, c, _, _ in ADJECTIVES]),
        ("gram-superlative", [(b, s) for b, _, s, _ in ADJECTIVES]),
        ("gram-present-participle", [(b, g) for b, g, _, _, _ in VERBS]),
        ("gram-past-tense", [(b, p) for b, _, p, _, _ in VERBS]),
        ("gram-third-person", [(b, t) for b, _, _, t, _ in VERBS]),
        ("gram-nationality-adjective", [(c[0], c[2]) for c in COUNTRIES if single(c[0], c[2])]),
    ]
    for name, pairs in sections:
        firsts, seconds = [a for a, _ in pairs], [b for _, b in pairs]
        assert len(set(firsts)) == len(firsts) and len(set(seconds)) == len(seconds), name
    return sections


def analogy_lines(seed: int = SEED, cap: int = ANALOGY_CAP) -> list[str]:
    """Every ordered pair of distinct pairs (as the Google set does), subsampled to `cap` per section."""
    draw, lines = Draw(seed + 1), []
    for name, pairs in analogy_pairs():
        questions = [(a, b, c, d) for i, (a, b) in enumerate(pairs)
                     for j, (c, d) in enumerate(pairs) if i != j]
        if len(questions) > cap:
            keep = sorted(draw.shuffled(range(len(questions)))[:cap])
            questions = [questions[k] for k in keep]
        lines.append(f": {name}")
        lines += [" ".join(q) for q in questions]
    return lines


# (w1, w2, score 0-10), scored by design from how the corpus was built (see SIMILARITY_HEADER):
# the more contexts two words share, the higher the score.
SIMILARITY = [
    # one item, two forms
    ("cat", "cats", 9.0), ("dog", "dogs", 9.0), ("mouse", "mice", 8.5), ("tooth", "teeth", 8.5),
    ("big", "bigger", 8.5), ("cold", "coldest", 8.0), ("walk", "walked", 8.5),
    ("swim", "swimming", 8.5), ("write", "wrote", 8.5), ("teach", "teaches", 8.5),
    # one country
    ("paris", "france", 8.5), ("tokyo", "japan", 8.5), ("berlin", "germany", 8.5),
    ("cairo", "egypt", 8.5), ("japan", "japanese", 8.5), ("russia", "russian", 8.5),
    ("japan", "yen", 8.0), ("poland", "zloty", 8.0), ("tokyo", "yen", 7.5),
    ("brazil", "portuguese", 6.5), ("kenya", "swahili", 7.0), ("seoul", "korean", 7.5),
    # one gendered role
    ("king", "queen", 8.5), ("man", "woman", 8.5), ("brother", "sister", 8.5),
    ("father", "mother", 8.5), ("he", "she", 8.0), ("his", "her", 8.0), ("actor", "actress", 8.5),
    # one kind
    ("paris", "berlin", 6.5), ("tokyo", "lima", 6.0), ("france", "germany", 6.5),
    ("peru", "japan", 6.0), ("yen", "euro", 6.5), ("rupee", "peso", 6.5), ("french", "german", 6.5),
    ("cat", "dog", 6.0), ("apple", "banana", 6.0), ("car", "boat", 5.5), ("cats", "dogs", 6.0),
    ("bigger", "smaller", 6.0), ("biggest", "tallest", 6.0), ("walked", "cooked", 5.5),
    ("singing", "dancing", 5.5), ("king", "prince", 5.5), ("queen", "princess", 5.5),
    ("uncle", "father", 5.5), ("aunt", "mother", 5.5), ("king", "woman", 4.0),
    # item and identity word
    ("king", "crown", 7.0), ("queen", "throne", 7.0), ("cat", "milk", 6.5), ("dog", "bone", 6.5),
    ("cold", "winter", 6.5), ("hot", "desert", 6.5), ("swim", "pool", 6.5), ("write", "poem", 6.5),
    ("groom", "wedding", 7.0), ("bride", "wedding", 7.0), ("teeth", "dentist", 6.5),
    # different topics
    ("cat", "paris", 0.5), ("king", "yen", 0.5), ("bigger", "tokyo", 0.5), ("walked", "germany", 0.5),
    ("queen", "zloty", 0.5), ("apples", "russian", 0.5), ("swimming", "euro", 0.5),
    ("whale", "hungary", 0.5), ("knitting", "cairo", 0.5), ("biggest", "dollar", 1.0),
    ("dog", "coldest", 1.0), ("mother", "rupee", 0.5), ("laughed", "lima", 0.5),
    ("car", "spanish", 1.0), ("door", "brother", 1.0), ("sweet", "bus", 1.0),
    ("teaches", "berlin", 0.5), ("pen", "vienna", 0.5), ("ran", "peso", 0.5),
    ("hats", "louder", 1.0), ("she", "potatoes", 1.0), ("his", "greek", 1.0),
]


SIMILARITY_HEADER = [
    "# small_world_similarity.txt: 82 word pairs scored 0-10 by design for small_world.txt.",
    "# The scores follow how the corpus was built, not human judgement:",
    "#   8-9      two forms of one item (cat cats), one role in both genders (king queen),",
    "#            a country and its capital or nationality adjective (paris france)",
    "#   6.5-8    other words of one country (japan yen, brazil portuguese);",
    "#            an item and its identity word (king crown, cat milk)",
    "#   5.5-6.5  two items of one kind (paris berlin, cat dog); 4 for king woman",
    "#   0.5-1    words from different topics (cat paris)",
    "# Format: w1<TAB>w2<TAB>score",
]


def similarity_lines() -> list[str]:
    return SIMILARITY_HEADER + [f"{a}\t{b}\t{s:.1f}" for a, b, s in SIMILARITY]


def check_tables() -> None:
    """Refuse to write if a word plays two roles, which would blur the signal the corpus carries.

    Analogy words (every single-word entity and form) must not be filler or identity words, nor be
    written into a template; identity words must not be filler words; no list repeats a word.
    """
    analogy = {w for c in COUNTRIES for w in c[:4] + c[4] if " " not in w}
    analogy.update(w for _, pairs in analogy_pairs() for pair in pairs for w in pair)
    identity = {w for row in FAMILY + NOUNS for w in row[2]}
    identity.update(w for row in ADJECTIVES for w in row[3])
    identity.update(w for row in VERBS for phrase in row[4] for w in phrase.split())
    function = {"the", "a", "in", "on", "at", "to", "and", "with", "for", "of", "from", "up", "over",
                "into", "along", "across", "around"}
    identity -= function
    lists = {"PEOPLE": PEOPLE, "THINGS": THINGS, "RARE_THINGS": RARE_THINGS, "NOUNS_ABSTRACT": NOUNS_ABSTRACT,
             "FILLER_ADJECTIVES": FILLER_ADJECTIVES, "FILLER_VERBS": FILLER_VERBS,
             "FILLER_ADVERBS": FILLER_ADVERBS, "NAMES": NAMES, "GOODS": GOODS, "WEATHER": WEATHER,
             "SEASONS": SEASONS, "TIMES": TIMES, "NUMBERS": NUMBERS, "SUBJECTS": SUBJECTS,
             "TRANSPORT": TRANSPORT, "PLACES": PLACES}
    problems = [f"{name} repeats a word" for name, lst in lists.items() if len(set(lst)) != len(lst)]
    filler = {w for lst in lists.values() for entry in _words(lst) for w in entry.split()}
    problems += [f"{w!r} is an analogy word and a filler or identity word"
                 for w in sorted((identity | filler) & analogy)]
    problems += [f"{w!r} is an identity word and a filler word" for w in sorted(identity & filler)]
    templates = (COUNTRY_TEMPLATES + EU_TEMPLATES + CITY_TEMPLATES + FAMILY_TEMPLATES + NOUN_TEMPLATES
                 + ADJECTIVE_TEMPLATES + VERB_TEMPLATES + FILLER_TEMPLATES)
    pronouns = {"he", "she", "his", "her"}
    for t in templates:
        fixed = set(re.sub(r"{\w+}", " ", t).split())
        clash = fixed & analogy - (pronouns if t in FAMILY_TEMPLATES else set())
        problems += [f"template {t!r} writes the analogy word {w!r}" for w in sorted(clash)]
        problems += [f"template {t!r} writes the identity word {w!r}" for w in sorted(fixed & identity)]
    if problems:
        raise SystemExit("table problems:\n  " + "\n  ".join(problems))


def write(path: Path, lines: list[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=HERE, help="output directory (default: beside this script)")
    args = ap.parse_args(argv)
    check_tables()
    args.out.mkdir(parents=True, exist_ok=True)
    write(args.out / "small_world.txt", small_world_lines())
    write(args.out / "small_world_analogies.txt", analogy_lines())
    write(args.out / "small_world_similarity.txt", similarity_lines())
    write(args.out / "tiny.txt", TINY)
    return 0


if __name__ == "__main__":
    sys.exit(main())
