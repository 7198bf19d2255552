"""Writes corpus.jsonl, the labelled scoring corpus (tests/unit/test_score_corpus.c): original posts
in English and Russian, short posts, near-duplicate reposts with small edits (each names the post it
copies), spam, and posts repeating one sentence. Run it after editing the posts below."""
import json, re
OUT = __import__("os").path.join(__import__("os").path.dirname(__import__("os").path.abspath(__file__)), "corpus.jsonl")
posts = []
def add(id, lang, title, content, label, kind, dup_of=None):
    posts.append({"id": id, "lang": lang, "title": title, "content": content, "label": label, "kind": kind,
                  **({"dup_of": dup_of} if dup_of else {})})

EN = {
"en-bread": ("Baking bread at home", "I started baking my own bread in the spring. The first loaves were flat and dense, but I kept notes on every attempt. Now I let the dough rise overnight in the fridge, and the crust comes out crisp and golden. The kitchen smells wonderful on Saturday mornings, and my neighbours have started to ask for a slice."),
"en-bike": ("Cycling to work", "Last month I sold my car and bought a second-hand bicycle. The ride to the office takes twenty minutes along the river. On rainy days I get wet, and on windy days I get tired, but I arrive awake and in a good mood. I also save money on fuel and parking, which pays for a new coat."),
"en-garden": ("A small balcony garden", "Our balcony is only two metres wide, yet this year it grew tomatoes, basil and a few strawberries. The trick was to use deep pots and to water early in the morning. A cheap shelf lets the herbs catch more sun. It is not a farm, but picking dinner from your own window feels great."),
"en-book": ("A book that surprised me", "I picked up an old novel about a lighthouse keeper because the cover looked nice. I expected a slow story, but it turned into a careful study of loneliness and duty. The keeper writes letters he never sends. I finished it in two evenings and I keep thinking about the last chapter."),
"en-kafka": ("Why we use a queue", "Our blog does not score a post while you wait. The web server puts the post on a queue and answers at once, and a worker reads the queue and scores posts one by one. If the worker is slow or restarts, nothing is lost: the queue keeps every post until it has been processed."),
"en-run": ("My first half marathon", "Six months ago I could not run for ten minutes without stopping. I followed a simple plan with three short runs and one long run each week. On race day it rained, my shoes were soaked after a kilometre, and I still finished in just over two hours. I was slow, but I was proud."),
"en-coffee": ("Notes on making coffee", "Good coffee at home needs three things: fresh beans, a steady grinder and water that is not boiling. I weigh the beans and the water, because measuring by eye gave me a different cup every day. A cheap scale changed more than an expensive machine would have."),
"en-move": ("Moving to a new city", "We moved in winter, which was a mistake. The boxes got wet, the van was late, and for a week we slept on a mattress on the floor. Still, the new flat is bright, the bakery downstairs opens at six, and the park is five minutes away. Slowly it is starting to feel like home."),
"en-cat": ("The cat and the printer", "Our cat has decided that the printer is her enemy. Every time it starts, she jumps on the desk and watches the paper come out with deep suspicion. Yesterday she pushed a whole report onto the floor. We now print only when she is asleep, which is most of the day."),
"en-learn": ("Learning to play the piano", "At forty I finally bought a used piano. I practise for twenty minutes every evening, mostly scales and one simple piece at a time. My fingers are slow and my timing is terrible, but each week something that was impossible becomes only difficult. That feels like enough progress."),
"en-rain": ("A rainy weekend", "It rained from Friday evening to Sunday night. We played board games, cooked a large pot of soup and watched two old films. Nobody checked their phone for hours. I did not expect a ruined weekend to be one of the best we have had this year."),
"en-code": ("Small functions", "When I review code, the change I ask for most often is to split a long function into smaller ones with clear names. A name says what a block does, so the reader does not have to work it out. Short functions are also easier to test, because each one has fewer paths through it."),
"en-travel": ("Trains instead of planes", "For our holiday we took the train across three countries instead of flying. It took longer, but we saw mountains, lakes and small towns we would never have visited. The seats were comfortable, there was room for our bags, and we arrived in the city centre instead of an airport far away."),
"en-tea": ("Green tea", "I drink green tea in the afternoon. Water that is too hot makes it bitter, so I let the kettle cool for a few minutes. Two short steeps from the same leaves taste better than one long one."),
"en-winter": ("First snow", "The first snow fell last night. This morning the street was quiet and white, and the children next door built a lopsided snowman before school. By noon it had melted into grey puddles, but for a few hours the whole town looked new."),
"en-volunteer": ("Volunteering at the library", "Every Tuesday I help at the local library. I put returned books back on the shelves and read stories to small children in the afternoon. The pay is zero, but the children laugh at the right moments and sometimes bring drawings of the characters."),
"en-phone": ("A week without a smartphone", "I put my smartphone in a drawer for a week and used an old phone that can only call and text. The first two days were strange: I kept reaching for my pocket. By the end of the week I was reading more, sleeping better and noticing the people around me on the bus."),
"en-soup": ("Lentil soup", "This lentil soup is cheap, filling and ready in forty minutes. Fry an onion and a carrot, add a cup of red lentils, a tin of tomatoes and a litre of water, then simmer until the lentils fall apart. A squeeze of lemon at the end makes it bright."),
"en-soup2": ("Bean soup", "This bean soup is simple and warming on a cold evening. Soften garlic and celery in olive oil, add two tins of white beans, some stock and a sprig of rosemary, and cook for half an hour. Mash a few beans against the pot to thicken it, and serve with bread."),
"en-deploy": ("Deploying on Fridays", "Our team used to avoid deploying on Fridays. Then we made releases small, automated the tests and learned to roll back in one command. Now a Friday deploy is as boring as any other day, which is exactly how a deploy should feel."),
"en-review": ("Review of a small camera", "I have used this compact camera for three months. The photos are sharp in daylight and acceptable indoors, the battery lasts about two hundred shots, and it fits in a jacket pocket. The menus are confusing, and the zoom is slow, but for travel it does the job well."),
"en-links": ("Two useful pages", "If you want to learn more about message queues, the documentation at https://kafka.apache.org/documentation is long but clear. For a gentler start, the tutorial at https://example.org/queues walks through a small example step by step. Both helped me understand consumer groups."),
"en-acronym": ("Notes from the meetup", "At the meetup we talked about TLS, DNS and HTTP caching. One speaker showed how a wrong TTL on a DNS record kept a broken site online for a day. Another explained why HTTP caches need clear headers. I left with a long list of things to check at work."),
"en-grandma": ("My grandmother's recipe book", "My grandmother kept her recipes in a worn notebook with a red cover. Some pages have stains of jam and flour, and some notes are in the margins: more sugar, less salt, bake ten minutes longer. I copied every page this winter so the book can rest on a shelf."),
}
RU = {
"ru-bread": ("Хлеб дома", "Весной я начал печь хлеб сам. Первые буханки получались плоскими и плотными, но я записывал каждую попытку. Теперь тесто подходит всю ночь в холодильнике, а корочка выходит хрустящей и золотистой. По субботам на кухне чудесно пахнет, и соседи уже просят кусочек."),
"ru-bike": ("На работу на велосипеде", "В прошлом месяце я продал машину и купил подержанный велосипед. Дорога до офиса занимает двадцать минут вдоль реки. В дождь я промокаю, в ветер устаю, но приезжаю бодрым и в хорошем настроении. К тому же я экономлю на бензине и парковке."),
"ru-garden": ("Сад на балконе", "Наш балкон шириной всего два метра, но в этом году на нём выросли помидоры, базилик и немного клубники. Секрет в глубоких горшках и поливе рано утром. Дешёвая полка помогает зелени ловить больше солнца. Это не ферма, но собирать ужин со своего окна очень приятно."),
"ru-book": ("Книга, которая удивила", "Я взял старый роман о смотрителе маяка только из-за красивой обложки. Ждал медленной истории, а получил внимательный рассказ об одиночестве и долге. Смотритель пишет письма, которые никогда не отправляет. Я прочитал книгу за два вечера и до сих пор думаю о последней главе."),
"ru-queue": ("Зачем нужна очередь", "Наш блог не оценивает пост, пока вы ждёте. Веб-сервер кладёт пост в очередь и сразу отвечает, а воркер читает очередь и оценивает посты по одному. Если воркер медленный или перезапускается, ничего не теряется: очередь хранит каждый пост, пока его не обработают."),
"ru-run": ("Мой первый полумарафон", "Полгода назад я не мог пробежать и десяти минут без остановки. Я тренировался по простому плану: три короткие пробежки и одна длинная в неделю. В день забега шёл дождь, кроссовки промокли на первом километре, но я всё равно финишировал чуть больше чем за два часа."),
"ru-coffee": ("Заметки о кофе", "Для хорошего кофе дома нужны три вещи: свежие зёрна, ровный помол и вода не из кипящего чайника. Я взвешиваю зёрна и воду, потому что на глаз каждый день получалась другая чашка. Дешёвые весы изменили больше, чем изменила бы дорогая кофемашина."),
"ru-move": ("Переезд в новый город", "Мы переехали зимой, и это была ошибка. Коробки промокли, машина опоздала, а неделю мы спали на матрасе на полу. Зато новая квартира светлая, пекарня внизу открывается в шесть, а до парка пять минут пешком. Понемногу здесь становится уютно."),
"ru-cat": ("Кошка и принтер", "Наша кошка решила, что принтер её враг. Стоит ему заработать, она прыгает на стол и с глубоким подозрением следит за выходящей бумагой. Вчера она сбросила на пол целый отчёт. Теперь мы печатаем только когда она спит, то есть почти всегда."),
"ru-piano": ("Учусь играть на пианино", "В сорок лет я наконец купил подержанное пианино. Занимаюсь по двадцать минут каждый вечер: гаммы и одна простая пьеса за раз. Пальцы медленные, ритм ужасный, но каждую неделю что-то невозможное становится просто трудным. Мне этого достаточно."),
"ru-rain": ("Дождливые выходные", "Дождь шёл с вечера пятницы до ночи воскресенья. Мы играли в настольные игры, сварили большую кастрюлю супа и посмотрели два старых фильма. Никто часами не брал в руки телефон. Не думал, что испорченные выходные окажутся одними из лучших в этом году."),
"ru-code": ("Короткие функции", "Когда я смотрю чужой код, чаще всего прошу разбить длинную функцию на несколько коротких с понятными именами. Имя говорит, что делает кусок кода, и читателю не нужно догадываться. Короткие функции к тому же проще тестировать."),
"ru-train": ("Поезд вместо самолёта", "В отпуск мы поехали поездом через три страны вместо перелёта. Дорога заняла больше времени, зато мы увидели горы, озёра и маленькие города, куда иначе бы не попали. Места были удобные, для сумок хватило места, а приехали мы в центр города, а не в далёкий аэропорт."),
"ru-tea": ("Зелёный чай", "Днём я пью зелёный чай. Слишком горячая вода делает его горьким, поэтому я даю чайнику немного остыть. Две короткие заварки из тех же листьев вкуснее одной долгой."),
"ru-snow": ("Первый снег", "Этой ночью выпал первый снег. Утром улица была тихой и белой, а соседские дети до школы слепили кривого снеговика. К обеду всё растаяло в серые лужи, но несколько часов весь город выглядел новым."),
"ru-library": ("Волонтёр в библиотеке", "По вторникам я помогаю в районной библиотеке. Расставляю возвращённые книги по полкам, а днём читаю сказки малышам. Денег за это не платят, но дети смеются в нужных местах и иногда приносят рисунки с героями."),
"ru-phone": ("Неделя без смартфона", "Я убрал смартфон в ящик на неделю и пользовался старым телефоном, который умеет только звонить и писать сообщения. Первые два дня было странно: рука всё время тянулась к карману. К концу недели я больше читал, лучше спал и замечал людей вокруг в автобусе."),
"ru-soup": ("Чечевичный суп", "Этот чечевичный суп дешёвый, сытный и готов за сорок минут. Обжарьте лук и морковь, добавьте стакан красной чечевицы, банку помидоров и литр воды и варите, пока чечевица не разварится. Немного лимонного сока в конце делает вкус ярче."),
"ru-soup2": ("Фасолевый суп", "Этот фасолевый суп простой и согревает холодным вечером. Потушите чеснок и сельдерей в оливковом масле, добавьте две банки белой фасоли, бульон и веточку розмарина и варите полчаса. Разомните часть фасоли о стенку кастрюли, чтобы суп стал гуще."),
"ru-deploy": ("Выкладка в пятницу", "Раньше наша команда боялась выкладывать изменения в пятницу. Потом мы сделали релизы маленькими, автоматизировали тесты и научились откатываться одной командой. Теперь выкладка в пятницу так же скучна, как в любой другой день, и именно такой она и должна быть."),
"ru-camera": ("Отзыв о маленькой камере", "Я пользуюсь этой компактной камерой три месяца. Днём снимки резкие, в помещении приемлемые, батареи хватает примерно на двести кадров, и камера помещается в карман куртки. Меню запутанное, зум медленный, но для путешествий она вполне годится."),
"ru-links": ("Две полезные ссылки", "Если хотите больше узнать об очередях сообщений, документация на https://kafka.apache.org/documentation длинная, но понятная. Для мягкого начала подойдёт учебник на https://example.org/queues с небольшим примером шаг за шагом. Мне оба помогли разобраться с группами потребителей."),
"ru-meetup": ("Заметки со встречи", "На встрече говорили о TLS, DNS и кешировании HTTP. Один докладчик показал, как неверный TTL у DNS-записи целые сутки держал сломанный сайт в сети. Другой объяснил, почему кешам HTTP нужны ясные заголовки. Я ушёл с длинным списком того, что проверить на работе."),
"ru-grandma": ("Бабушкина тетрадь рецептов", "Бабушка хранила рецепты в потрёпанной тетради с красной обложкой. На некоторых страницах пятна варенья и муки, на полях пометки: больше сахара, меньше соли, печь на десять минут дольше. Этой зимой я переписал каждую страницу, чтобы тетрадь могла отдыхать на полке."),
}
for id, (t, c) in EN.items(): add(id, "en", t, c, "ok", "original")
for id, (t, c) in RU.items(): add(id, "ru", t, c, "ok", "original")

# short posts: legitimate, not spam (a TOO_SHORT note is fine, hard-to-read is not)
for id, lang, t, c in [
    ("en-short1", "en", "Short", "Thanks for reading!"),
    ("en-short2", "en", "Hello", "Hello world."),
    ("en-short3", "en", "Update", "Back from holiday, more posts soon."),
    ("ru-short1", "ru", "Коротко", "Коротко."),
    ("ru-short2", "ru", "Привет", "Всем привет!"),
    ("ru-short3", "ru", "Новости", "Вернулся из отпуска, скоро новые посты."),
]:
    add(id, lang, t, c, "ok", "short")

def edit(text, pairs):
    for a, b in pairs:
        assert a in text, (a, text[:40])
        text = text.replace(a, b, 1)
    return text

# near-duplicates: reposts with small edits
NEAR = [
    ("en-bread", [("spring", "summer"), ("Saturday", "Sunday")]),
    ("en-bike", [("twenty", "twenty-five"), ("river", "canal")]),
    ("en-book", [("two evenings", "three evenings")]),
    ("en-run", [("Six months", "Eight months"), ("rained", "snowed")]),
    ("en-cat", [("printer", "scanner"), ("paper", "pages")]),
    ("en-tea", [("afternoon", "evening"), ("few minutes", "minute")]),
    ("en-winter", [("last night", "on Monday")]),
    ("en-coffee", [("", "")]),  # exact repost
    ("en-phone", [("a week", "ten days"), ("week", "ten days")]),
    ("en-deploy", [(" which is exactly how a deploy should feel.", " and that is how it should be.")]),
    ("ru-bread", [("Весной", "Летом"), ("субботам", "воскресеньям")]),
    ("ru-bike", [("двадцать", "двадцать пять"), ("реки", "канала")]),
    ("ru-book", [("два вечера", "три вечера")]),
    ("ru-run", [("Полгода", "Восемь месяцев"), ("шёл дождь", "шёл снег")]),
    ("ru-cat", [("принтер", "сканер"), ("бумагой", "страницей")]),
    ("ru-tea", [("Днём", "Вечером"), ("немного", "минуту")]),
    ("ru-snow", [("Этой ночью", "В понедельник")]),
    ("ru-coffee", [("", "")]),
    ("ru-phone", [("на неделю", "на десять дней"), ("К концу недели", "К концу")]),
    ("ru-deploy", [(" и именно такой она и должна быть.", " так и должно быть.")]),
]
for base, pairs in NEAR:
    lang = base[:2]
    src = EN[base] if lang == "en" else RU[base]
    text = src[1] if pairs == [("", "")] else edit(src[1], pairs)
    add(base + "-dup", lang, src[0], text, "bad", "near_duplicate", base)
# a repost with one sentence added at the end
add("en-garden-dup", "en", "Balcony garden again", EN["en-garden"][1] + " Next year I want to try peppers.", "bad",
    "near_duplicate", "en-garden")
add("ru-garden-dup", "ru", "Снова о балконе", RU["ru-garden"][1] + " В следующем году попробую перец.", "bad",
    "near_duplicate", "ru-garden")

# spam
SPAM = [
    ("en-spam1", "en", "Make money", "Earn money fast from home! Click here to join our program and buy now before the limited offer ends."),
    ("en-spam2", "en", "FREE", "FREE MONEY FOR EVERYONE!!! CLICK HERE NOW AND GET YOUR BONUS TODAY!!!! http://spam.example http://spam.example/a http://spam.example/b http://spam.example/c"),
    ("en-spam3", "en", "Casino", "Best casino bonus, double your income tonight, act now: www.casino.example www.casino2.example www.casino3.example www.casino4.example"),
    ("en-spam4", "en", "Crypto", "Crypto giveaway!!!! Send one coin and get two back. Work from home and earn money fast. Buy now!"),
    ("ru-spam1", "ru", "Заработок", "Быстрый заработок без вложений! Перейди по ссылке и начни зарабатывать уже сегодня, только сегодня!"),
    ("ru-spam2", "ru", "БЕСПЛАТНО", "БЕСПЛАТНО И БЕЗ РЕГИСТРАЦИИ!!! ЖМИ СЮДА И ПОЛУЧИ БОНУС!!!! http://spam.example http://spam.example/a http://spam.example/b http://spam.example/c"),
    ("ru-spam3", "ru", "Казино", "Лучшее казино в сети, купить сейчас фишки со скидкой, переходи по ссылке: www.kazino.example www.kazino2.example www.kazino3.example"),
    ("ru-spam4", "ru", "Акция", "Только сегодня! Купить сейчас со скидкой девяносто процентов!!!! Быстрый заработок гарантирован!!!!"),
]
for id, lang, t, c in SPAM: add(id, lang, t, c, "bad", "spam")

# repetition: one sentence or a short paragraph over and over
add("en-rep1", "en", "Great product", " ".join(["This is a great product and you should buy it."] * 120), "bad", "repetition")
add("en-rep2", "en", "Visit us", " ".join(["Visit our shop on the corner for the best prices in town."] * 30), "bad", "repetition")
add("en-rep3", "en", "Hello", " ".join(["hello"] * 200), "bad", "repetition")
add("ru-rep1", "ru", "Отличный товар", " ".join(["Это отличный товар, и вам стоит его купить."] * 120), "bad", "repetition")
add("ru-rep2", "ru", "Заходите", " ".join(["Заходите в наш магазин на углу за лучшими ценами в городе."] * 30), "bad", "repetition")
add("ru-rep3", "ru", "Привет", " ".join(["привет"] * 200), "bad", "repetition")
# legitimate repetition: a poem with a refrain, a list
add("en-refrain", "en", "A song for the road", "The road is long and the night is cold. Keep walking, keep walking. The stars are out and the town is old. Keep walking, keep walking. My bag is light and my boots are new. Keep walking, keep walking. The morning comes and the sky turns blue. Keep walking, keep walking.", "ok", "original")
add("ru-refrain", "ru", "Песня в дорогу", "Дорога длинна, и ночь холодна. Иди вперёд, иди вперёд. Над старым городом светит луна. Иди вперёд, иди вперёд. Рюкзак мой лёгок, ботинки новы. Иди вперёд, иди вперёд. Рассвет приходит из синевы. Иди вперёд, иди вперёд.", "ok", "original")

with open(OUT, "w", encoding="utf-8") as f:
    for p in posts:
        f.write(json.dumps(p, ensure_ascii=False) + "\n")
from collections import Counter
print(len(posts), Counter((p["lang"], p["label"]) for p in posts), Counter(p["kind"] for p in posts))
